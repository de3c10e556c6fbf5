// After a rehearsal or a production run: its line in .lifeboat/history.jsonl, bound to the
// digest of what ran, and (on request) a JUnit report for a CI job.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Prepared } from '../session/prepare.js';
import type { JournalRecord, ExecFinishedEvent } from '../engine/events.js';
import {
  journalState,
  runOutcome,
  stepOutcome,
  unitOutcome,
  outcomeWords,
  isFailureOutcome,
} from '../engine/outcome.js';
import { failureTail } from '../engine/output-tail.js';
import { stepOf, type RunState } from '../engine/state.js';
import { xml } from '../util/xml.js';

/** After a rehearsal or a production run: one line in .lifeboat/history.jsonl. */
export async function recordHistory(
  p: Prepared,
  records: JournalRecord[],
  hostKeys: Record<string, string>,
  stateDir?: string,
): Promise<string | undefined> {
  const { historyFromJournal, appendHistory } = await import('./history.js');
  const entry = historyFromJournal(records, { hostKeys });
  if (!entry) return undefined;
  return appendHistory(p.root, entry, stateDir ? { stateDir } : {});
}

/** JUnit XML of a rehearsal: one testcase per step and host, so a nightly CI job can show it. */
export function junitXml(p: Prepared, state: RunState, records: JournalRecord[]): string {
  const cases: string[] = [];
  const js = journalState(records);
  const outcome = runOutcome(js);
  let failures = 0;
  let skipped = 0;
  for (const id of state.order) {
    const step = stepOf(p.plan, id)!;
    const ss = state.steps[id];
    const units = step.hosts.length ? step.hosts.map((h) => state.units[`${id}@${h}`]) : [undefined];
    for (const u of units) {
      const name = `${id}${u ? ` @ ${u.host}` : ''}`;
      const time =
        u?.startedAt && u.finishedAt
          ? (u.finishedAt - u.startedAt) / 1000
          : ss.startedAt && ss.finishedAt
            ? (ss.finishedAt - ss.startedAt) / 1000
            : 0;
      // the one outcome function decides; an allowed failure is reported by name, not as a failure of the drill
      const o = u ? unitOutcome(js, id, u.host) : stepOutcome(js, id);
      let body = '';
      const last = [...records]
        .reverse()
        .find(
          (r): r is JournalRecord & ExecFinishedEvent =>
            r.type === 'exec-finished' && r.purpose === 'run' && r.step === id && (!u || r.host === u.host),
        );
      const out = last ? failureTail({ stdout: last.stdoutTail, stderr: last.stderrTail }) : '';
      if (isFailureOutcome(o) || o === 'running') {
        failures++;
        const why =
          o === 'marked-done'
            ? (u?.note ?? 'marked done without evidence')
            : o === 'failed'
              ? (u?.reason ?? 'failed')
              : `${outcomeWords(o)}${u?.reason ? `: ${u.reason}` : ''}`;
        body = `<failure message="${xml(why)}">${xml(out)}</failure>`;
      } else if (o === 'allowed-failure') {
        body = `<skipped message="${xml(`allowed failure (on_failure: continue)${u?.reason ? `: ${u.reason}` : ''}`)}"/><system-out>${xml(out)}</system-out>`;
        skipped++;
      } else if (o === 'skipped' || o === 'not-run') {
        skipped++;
        body = `<skipped message="${xml(u?.note ?? ss.note ?? (o === 'not-run' ? 'not reached' : 'skipped'))}"/>`;
      }
      cases.push(
        `    <testcase classname="${xml(`${p.plan.runbook.name}.${step.phase}`)}" name="${xml(name)}" time="${time.toFixed(3)}">${body}</testcase>`,
      );
    }
  }
  const total = ((state.finishedAt ?? Date.now()) - state.startedAt) / 1000;
  const totalTime = total.toFixed(3);
  const suiteName = xml(`${p.plan.runbook.name}@${p.plan.runbook.version} on ${p.plan.inventory.name}`);
  const startedAt = new Date(state.startedAt).toISOString().slice(0, 19);
  const allowedList = outcome.allowedFailures.map((f) => `${f.step}${f.host ? ` on ${f.host}` : ''}`).join(', ');
  const allowedProperty = outcome.allowedFailures.length
    ? `\n      <property name="allowed_failures" value="${xml(allowedList)}"/>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="lifeboat rehearsal" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${totalTime}">
  <testsuite name="${suiteName}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${totalTime}" timestamp="${startedAt}">
    <properties>
      <property name="runbook" value="${xml(p.plan.runbook.name)}"/>
      <property name="version" value="${xml(p.plan.runbook.version)}"/>
      <property name="digest" value="${p.plan.digest}"/>
      <property name="inventory" value="${xml(p.plan.inventory.name)}"/>
      <property name="result" value="${outcome.result}"/>${allowedProperty}
      <property name="rto_ms" value="${p.plan.runbook.rtoMs ?? ''}"/>
    </properties>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

export function writeJunit(file: string, p: Prepared, state: RunState, records: JournalRecord[]) {
  // a CI job names e.g. reports/junit.xml before the folder exists
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(path.resolve(file), junitXml(p, state, records));
}
