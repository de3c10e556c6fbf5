// The preflight's own check: sudo works without a password on every host whose steps need it.
import type { Prepared } from './prepare.js';
import type { ResolvedStep } from '../model/plan.js';
import { parseTemplate } from '../plan/template.js';

/** preflight also proves sudo works without a password on every host whose steps need it */
export function addSudoChecks(prepared: Pick<Prepared, 'plan'>) {
  const plan = prepared.plan;
  const needs = new Map<string, boolean | string>();
  for (const s of plan.steps)
    if (s.sudo) for (const h of s.hosts) if (h !== 'local') needs.set(h, needs.get(h) ?? s.sudo);
  if (!needs.size) return;
  // the check stands where the preflight starts: it takes that step's place in the file and its scope
  const first = plan.steps.find((s) => s.phase === 'preflight') ?? plan.steps[0];
  const hosts = [...needs.keys()];
  const check: ResolvedStep = {
    id: 'sudo-works',
    title: 'sudo works without a password where steps need it',
    action: 'run',
    phase: 'preflight',
    source: first.source,
    runbook: first.runbook,
    scope: first.scope,
    run: parseTemplate('true'),
    sudo: true,
    env: {},
    hosts,
    on: hosts,
    strategy: 'parallel',
    maxParallel: 32,
    expect: { exit: [0] },
    intervalMs: 2000,
    timeoutMs: 30_000,
    retries: 0,
    retryDelayMs: 1000,
    when: [],
    onFailure: 'continue',
    idempotent: true,
  };
  plan.steps.unshift(check);
}
