// Small names every rule uses: how a step is named in a message, where it runs, a role's host.
import type { Step } from '../../model/types.js';

export const stepName = (s: Step, i: number) => (typeof s?.id === 'string' ? `step '${s.id}'` : `step ${i + 1}`);
export const targetsOf = (s: Step): string[] => (s.on === undefined ? [] : Array.isArray(s.on) ? s.on : [s.on]);
export const roleHost = (spec: unknown): string | undefined =>
  typeof spec === 'string' ? spec : (spec as { host?: string } | undefined)?.host;
export const HOST_FIELDS = ['name', 'address', 'user', 'port'];
