// The one step numbering and the one point-of-no-return rule, over generated plans.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { stepNumbers } from '../../src/plan/numbering.js';
import { pointsOfNoReturn } from '../../src/plan/gates.js';
import { parseTemplate } from '../../src/plan/template.js';
import type { ResolvedStep } from '../../src/model/plan.js';

const stepArb = fc.record({
  phase: fc.constantFrom('preflight' as const, 'main' as const),
  action: fc.constantFrom('run' as const, 'gate' as const, 'manual' as const),
  confirm: fc.boolean(),
  rollback: fc.boolean(),
  idempotent: fc.boolean(),
  irreversible: fc.boolean(),
  destructive: fc.boolean(),
});
type Gen = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

const toSteps = (gens: Gen[]): ResolvedStep[] =>
  gens.map(
    (g, i) =>
      ({
        id: `s${i}`,
        phase: g.phase,
        action: g.action,
        run: g.action === 'run' ? parseTemplate(g.destructive ? 'rm -rf /srv/data' : 'echo ok') : undefined,
        confirm: g.confirm ? parseTemplate('Go on?') : undefined,
        rollback: g.rollback && g.action === 'run' ? parseTemplate('echo undo') : undefined,
        idempotent: g.idempotent,
        irreversible: g.irreversible || undefined,
      }) as unknown as ResolvedStep,
  );

describe('stepNumbers', () => {
  it('gives every step one number: P1… for preconditions, 1… after, in order, none twice', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (gens) => {
        const steps = toSteps(gens);
        const n = stepNumbers({ steps });
        expect(n.size).toBe(steps.length);
        expect(new Set(n.values()).size).toBe(steps.length);
        const pre = steps.filter((s) => s.phase === 'preflight').map((s) => n.get(s.id));
        const main = steps.filter((s) => s.phase !== 'preflight').map((s) => n.get(s.id));
        expect(pre).toEqual(pre.map((_, i) => `P${i + 1}`));
        expect(main).toEqual(main.map((_, i) => String(i + 1)));
        // a list of steps and a plan give the same numbers
        expect([...stepNumbers(steps)]).toEqual([...n]);
      }),
    );
  });
});

describe('pointsOfNoReturn', () => {
  it('marks only questions, and a command with its own question exactly when nothing undoes it', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), (gens) => {
        const steps = toSteps(gens);
        const pnr = pointsOfNoReturn({ steps });
        steps.forEach((s, i) => {
          if (!s.confirm) {
            expect(pnr.has(s.id)).toBe(false);
            return;
          }
          if (s.action === 'run') expect(pnr.has(s.id)).toBe(Boolean(s.irreversible) || (!s.rollback && !s.idempotent));
          if (s.action === 'gate' && !s.irreversible) {
            const next = steps[i + 1];
            const guards =
              next !== undefined &&
              !next.confirm &&
              (Boolean(next.irreversible) ||
                (next.action === 'run' && !next.rollback && !next.idempotent && next.run!.source.startsWith('rm')));
            expect(pnr.has(s.id)).toBe(guards);
          }
        });
      }),
    );
  });

  it('regression: a reversible gated command asks first; an explicit mark wins over a rollback', () => {
    const [a, b] = toSteps([
      {
        phase: 'main',
        action: 'run',
        confirm: true,
        rollback: true,
        idempotent: false,
        irreversible: false,
        destructive: true,
      },
      {
        phase: 'main',
        action: 'run',
        confirm: true,
        rollback: true,
        idempotent: true,
        irreversible: true,
        destructive: false,
      },
    ]);
    expect([...pointsOfNoReturn({ steps: [a, b] })]).toEqual(['s1']);
  });
});
