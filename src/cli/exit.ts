// The one exit-code table (documented in README and --help).
export const EXIT = {
  /** all good */
  OK: 0,
  /** problems found (validate) or the run failed / was aborted */
  PROBLEMS: 1,
  /** bad command line */
  USAGE: 2,
  /** a bug or an environment failure lifeboat could not explain */
  INTERNAL: 3,
} as const;

/** An error that ends the command with a given code and a message for the operator. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}
