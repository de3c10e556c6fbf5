// A runbook resolved against an inventory: every step with its hosts, templates parsed,
// durations in milliseconds, includes expanded. The engine, dry run and plan all read this.
import type { ResolvedHost } from '../ports.js';
import type { Template } from '../plan/template.js';
import type { Tier } from './types.js';

/** `template`: the value takes templates (a captured checksum); rendered when the output is checked */
export type OutputTest =
  | { kind: 'equals'; value: string; template?: Template }
  | { kind: 'match'; regex: string }
  | { kind: 'contains'; value: string; template?: Template };

export interface Expectation {
  exit: number[];
  stdout?: OutputTest;
  stderr?: OutputTest;
}

export interface HostCondition {
  kind: 'unreachable' | 'reachable';
  host: string;
  role?: string;
}
export interface ValueCondition {
  kind: 'equals' | 'not_equals' | 'matches';
  value: Template;
  operand: string;
}
export type ResolvedCondition = HostCondition | ValueCondition;
export const isHostCondition = (c: ResolvedCondition): c is HostCondition =>
  c.kind === 'unreachable' || c.kind === 'reachable';

export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export type StepAction = 'run' | 'manual' | 'gate';

export interface ResolvedStep {
  /** unique in the plan; included steps are `INCLUDE-STEP/STEP` */
  id: string;
  title: string;
  action: StepAction;
  source: SourcePos;
  /** runbook the step comes from (differs from the plan's for included steps) */
  runbook: string;
  run?: Template;
  manual?: Template;
  confirm?: Template;
  skipIf?: Template;
  rollback?: Template;
  env: Record<string, Template>;
  /** inventory host names, or `local`; empty for manual steps and gates */
  hosts: string[];
  /** the role named in `on`, for display */
  on?: string[];
  strategy: 'parallel' | 'serial';
  maxParallel: number;
  expect: Expectation;
  until?: Expectation;
  intervalMs: number;
  timeoutMs?: number;
  retries: number;
  retryDelayMs: number;
  /** `estimate:`, the operator's expected duration of the step (decision 0031) */
  estimateMs?: number;
  capture?: string;
  /** the captured value is the data-loss window (seconds or a duration) compared with the RPO */
  measures?: 'rpo';
  record?: string;
  when: ResolvedCondition[];
  onFailure?: 'ask' | 'abort' | 'continue';
  idempotent: boolean;
  /** marked `irreversible: true`: its question is a point of no return whatever else it says */
  irreversible?: boolean;
  phase: 'preflight' | 'main';
  sudo?: boolean | string;
  /** template scope of this step (included runbooks have their own vars and roles) */
  scope: { vars: Record<string, string | number | boolean>; roles: Record<string, string> };
}

export type SecretSource = { env: string } | { file: string } | { prompt: string };

export interface ResolvedPlan {
  runbook: {
    name: string;
    version: string;
    title: string;
    service?: string;
    tier: Tier;
    rtoMs?: number;
    rpoMs?: number;
    owner?: string;
    description?: string;
    file: string;
  };
  inventory: { name: string; environment?: 'production' | 'rehearsal'; file: string };
  /** every host the plan may touch, by inventory name (plus `local`) */
  hosts: Record<string, ResolvedHost>;
  /** role → inventory host, of the top-level runbook */
  roles: Record<string, string>;
  steps: ResolvedStep[];
  secrets: Record<string, SecretSource>;
  lock?: { host: string };
  /** sha256 over the runbook and everything it includes */
  digest: string;
  inventoryDigest: string;
  /** files that make up the plan, with their sha256 */
  files: { path: string; sha256: string; role: 'runbook' | 'include' | 'inventory' }[];
}
