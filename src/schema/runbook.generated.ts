/* GENERATED from schemas/runbook.schema.json by scripts/gen-types.mjs: do not edit. */

/**
 * Format version of the file; always 1 for now.
 */
export type FormatVersion = 1;
/**
 * critical: the business stops; important: it slows; routine: it can wait.
 */
export type Tier = 'critical' | 'important' | 'routine';
export type Role =
  | string
  | {
      host: string;
      /**
       * The failed server: unreachable is expected; its steps are skipped with a note.
       */
      may_be_down?: boolean;
      description?: string;
    };
export type Scalar = string | number | boolean;
/**
 * Lower-case letters, digits and dashes.
 */
export type Id = string;
export type OutputMatch =
  | (string | number | boolean)
  | {
      /**
       * A regular expression searched in the output.
       */
      match?: string;
      /**
       * A substring of the output.
       */
      contains?: string;
    };
/**
 * A duration such as 30s, 2m, 1h30m, 90d, 500ms.
 */
export type Duration = string;

/**
 * One recovery procedure for one service.
 */
export interface Runbook {
  lifeboat: FormatVersion;
  kind: 'runbook';
  /**
   * Unique in the site.
   */
  name: string;
  /**
   * The procedure's own version; bump it on every change.
   */
  version: string;
  title: string;
  /**
   * The business service this runbook restores.
   */
  service?: string;
  tier: Tier;
  objectives?: {
    /**
     * Recovery time objective.
     */
    rto?: string;
    /**
     * Recovery point objective.
     */
    rpo?: string;
  };
  owner?: string;
  /**
   * Markdown, printed in the plan.
   */
  description?: string;
  /**
   * Names used by steps, bound to inventory hosts.
   */
  roles?: {
    [k: string]: Role;
  };
  vars?: Vars;
  /**
   * Never printed, never journaled.
   */
  secrets?: {
    [k: string]: Secret;
  };
  /**
   * Hold an atomic lock on a target host while the run lasts.
   */
  lock?: {
    on: string;
  };
  /**
   * @minItems 1
   */
  steps: [Step, ...Step[]];
}
/**
 * Named values used in templates as {{ vars.NAME }}.
 */
export interface Vars {
  [k: string]: Scalar;
}
export interface Secret {
  /**
   * An environment variable of the operator's shell.
   */
  env?: string;
  /**
   * A file private to its owner; its trimmed content.
   */
  file?: string;
  /**
   * Asked once, not echoed.
   */
  prompt?: string;
}
export interface Step {
  id: Id;
  title?: string;
  /**
   * A shell command (bash, set -e -o pipefail).
   */
  run?: string;
  /**
   * Instructions for a person, who confirms when done.
   */
  manual?: string;
  /**
   * Another runbook of the site, by name.
   */
  include?: string;
  with?: Vars1;
  /**
   * With manual: ask the operator to type a value, stored as captured.NAME.
   */
  record?: string;
  /**
   * A role, an inventory host, a list of them, or local.
   */
  on?: string | [string, ...string[]];
  strategy?: 'parallel' | 'serial';
  max_parallel?: number;
  /**
   * A question answered before the step runs; printed as a point of no return.
   */
  confirm?: string;
  expect?: Expect;
  until?: Expect1;
  interval?: Duration;
  timeout?: Duration;
  /**
   * A duration such as 30s, 2m, 1h30m, 90d, 500ms.
   */
  estimate?: string;
  retries?: number;
  retry_delay?: Duration;
  /**
   * Store trimmed stdout as captured.NAME.
   */
  capture?: string;
  /**
   * With capture: the captured value is the data-loss window (a number of seconds, or a duration such as 0.4s or 2m), compared with objectives.rpo before the first point of no return and shown in the summary, log, report, history and plan.
   */
  measures?: 'rpo';
  when?: Condition | [Condition, ...Condition[]];
  /**
   * A command on the same host whose success skips the step.
   */
  skip_if?: string;
  on_failure?: 'ask' | 'abort' | 'continue';
  rollback?: string;
  idempotent?: boolean;
  /**
   * The step cannot be undone whatever its rollback says: its confirm prints as a point of no return.
   */
  irreversible?: boolean;
  phase?: 'preflight' | 'main';
  sudo?: boolean | string;
  env?: {
    [k: string]: string;
  };
}
/**
 * Named values used in templates as {{ vars.NAME }}.
 */
export interface Vars1 {
  [k: string]: Scalar;
}
export interface Expect {
  /**
   * Accepted exit codes (default 0).
   */
  exit?: number | [number, ...number[]];
  stdout?: OutputMatch;
  stderr?: OutputMatch;
}
/**
 * Poll the command until this holds.
 */
export interface Expect1 {
  /**
   * Accepted exit codes (default 0).
   */
  exit?: number | [number, ...number[]];
  stdout?: OutputMatch;
  stderr?: OutputMatch;
}
/**
 * One test: unreachable, reachable, or value with equals / not_equals / matches.
 */
export interface Condition {
  /**
   * True when this role or host cannot be reached.
   */
  unreachable?: string;
  /**
   * True when this role or host can be reached.
   */
  reachable?: string;
  /**
   * A template whose rendered text is compared.
   */
  value?: string;
  equals?: Scalar;
  not_equals?: Scalar;
  matches?: string;
}
