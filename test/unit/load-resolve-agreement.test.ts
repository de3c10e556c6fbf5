// What validation accepts, the resolver must resolve and every template must render: for each
// runbook × inventory of the golden good project and of the shipped runbooks.
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validatePaths } from '../../src/load/validate.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import { stepContext } from '../../src/plan/context.js';
import { render, type Template } from '../../src/plan/template.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

for (const dir of ['test/golden/good', 'runbooks']) {
  const abs = path.join(root, dir);
  describe.runIf(existsSync(abs))(`${dir}: valid means resolvable`, () => {
    const { project, diagnostics } = validatePaths([abs], { git: false });
    it('validates without errors', () => {
      expect(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line} ${d.message}`)).toEqual(
        [],
      );
    });
    for (const rb of project.runbooks.keys()) {
      for (const inv of project.inventories.keys()) {
        it(`${rb} on ${inv}`, () => {
          const plan = resolvePlan(project, rb, inv, { env: {}, sshConfigLookup: () => ({}) });
          const secrets = Object.fromEntries(Object.keys(plan.secrets).map((k) => [k, 'x']));
          for (const step of plan.steps) {
            for (const host of step.hosts.length ? step.hosts : [undefined]) {
              const ctx = { ...stepContext(plan, step, host, {}, secrets), pendingCaptured: (n: string) => `<${n}>` };
              const fields: (Template | undefined)[] = [
                step.run,
                step.skipIf,
                step.rollback,
                step.confirm,
                step.manual,
                ...Object.values(step.env),
              ];
              for (const c of step.when) if ('value' in c) fields.push(c.value);
              for (const t of fields)
                if (t)
                  expect(() => render(t, ctx, 'shell-display'), `${step.id}: ${t.source.slice(0, 80)}`).not.toThrow();
            }
          }
        });
      }
    }
  });
}
