// The operator's side of a failure and of a command in doubt: what the failure prompt shows of
// the failed hosts' output, and the in-doubt question (with the value "done" needs when the
// step captures its output). Nothing here journals: the runner records the answers.
import type { ResolvedStep } from '../model/plan.js';
import type { Operator, Reporter } from '../ports.js';
import { unitKey, type RunState, type UnitState } from './state.js';
import { failureTail } from './output-tail.js';
import { printable } from '../util/printable.js';

type InDoubtChoice = 'rerun' | 'done' | 'abort';

/** What the step's undecided failed hosts printed: the tail, and all of it; labelled by host when there are several. */
export function failedOutput(
  state: RunState,
  outputs: ReadonlyMap<string, { stdout: string; stderr: string }>,
  st: ResolvedStep,
): { output?: string; fullOutput?: string } {
  const failed = st.hosts.filter((h) => {
    const u = state.units[unitKey(st.id, h)];
    return u?.status === 'failed' && !u.decided;
  });
  const shown = failed.map((h) => ({ h, o: outputs.get(unitKey(st.id, h)) })).filter((x) => x.o);
  const label = (h: string, text: string) =>
    failed.length > 1
      ? `${h}:\n${text
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')}`
      : text;
  const output =
    shown
      .map(({ h, o }) => label(h, failureTail(o!)))
      .filter(Boolean)
      .join('\n') || undefined;
  const fullOutput =
    shown
      .map(({ h, o }) =>
        label(
          h,
          [o!.stderr && `stderr:\n${printable(o!.stderr)}`, o!.stdout && `stdout:\n${printable(o!.stdout)}`]
            .filter(Boolean)
            .join('\n'),
        ),
      )
      .join('\n') || undefined;
  return { output, fullOutput };
}

/**
 * Ask whether a command that may or may not have run before a stop ran. "done" on a step that
 * captures its output asks for the value too (no value: abort); without a person: abort.
 */
export async function askInDoubt(
  op: Operator,
  reporter: Reporter,
  st: ResolvedStep,
  host: string,
  u: UnitState,
): Promise<{ choice: InDoubtChoice; captured?: { name: string; value: string } }> {
  reporter.pause();
  let choice: InDoubtChoice;
  let captured: { name: string; value: string } | undefined;
  try {
    choice = await op.inDoubt({
      step: st.id,
      title: st.title,
      host,
      command: u.lastCommand ?? '',
      lastOutput: u.lastOutput ?? '',
    });
    if (choice === 'done' && st.capture) {
      // later steps need what it printed: "done" takes the value from the operator
      const r = await op.manual({
        step: st.id,
        title: `value of ${st.capture}`,
        instructions: `Step ${st.id} captures its output as ${st.capture}. Run it by hand on ${host} (${u.lastCommand ?? ''}) and type what it prints.`,
        record: st.capture,
      });
      if (!r.done || r.value === undefined) choice = 'abort';
      else captured = { name: st.capture, value: r.value };
    }
  } catch (e) {
    if (!(e instanceof Error && e.constructor.name === 'NonInteractiveError')) throw e;
    reporter.note(
      st.capture
        ? `in-doubt step ${st.id} on ${host} captures its output as ${st.capture}: ` +
            `marking it done needs that value (--yes-manual --answer ${st.id}=VALUE, or a terminal); stopping here`
        : `in-doubt step ${st.id} on ${host}: ${e.message}`,
      'warn',
    );
    choice = 'abort';
  } finally {
    reporter.resume();
  }
  return { choice, captured };
}
