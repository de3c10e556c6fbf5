// The preflight's own check: sudo works without a password on every host whose steps need it.
import type { Prepared } from './prepare.js';
import { parseTemplate } from '../plan/template.js';

/** preflight also proves sudo works without a password on every host whose steps need it */
export function addSudoChecks(prepared: Pick<Prepared, 'plan'>) {
  const plan = prepared.plan;
  const needs = new Map<string, boolean | string>();
  for (const s of plan.steps) if (s.sudo) for (const h of s.hosts) if (h !== 'local') needs.set(h, needs.get(h) ?? s.sudo);
  if (!needs.size) return;
  const base = plan.steps.find((s) => s.phase === 'preflight') ?? plan.steps[0];
  plan.steps.unshift({
    ...base, id: 'sudo-works', title: 'sudo works without a password where steps need it', action: 'run', run: parseTemplate('true'),
    manual: undefined, confirm: undefined, skipIf: undefined, rollback: undefined, env: {}, hosts: [...needs.keys()], on: [...needs.keys()],
    strategy: 'parallel', maxParallel: 32, expect: { exit: [0] }, until: undefined, timeoutMs: 30_000, retries: 0, capture: undefined, record: undefined,
    when: [], onFailure: 'continue', idempotent: true, phase: 'preflight', sudo: true,
  });
}
