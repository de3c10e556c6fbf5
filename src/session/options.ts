// What a run, rehearsal, preflight or resume is asked to do: the command line's options, as
// the session layer takes them.
import type { RunStartedEvent } from '../engine/events.js';

export interface RunCmdOptions {
  inventory: string;
  dryRun?: boolean;
  format?: 'text' | 'json';
  yes?: boolean;
  yesManual?: boolean;
  answer?: string[];
  from?: string;
  to?: string;
  listSteps?: boolean;
  plain?: boolean;
  verbose?: boolean;
  stateDir?: string;
  acceptNewHostKeys?: boolean;
  takeover?: boolean;
  junit?: string;
}

export type RunMode = RunStartedEvent['mode'];
