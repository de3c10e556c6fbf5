// Rehearsals: a real run against a rehearsal inventory, kept off production by an interlock,
// and recorded in .lifeboat/history.jsonl bound to the digest of what was rehearsed.
// Also the production-side check: a run on production of a runbook whose rehearsal is not
// current warns and asks once more.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Prepared } from './prepare.js';
import type { Operator } from '../ports.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { resolveHost } from '../plan/resolve.js';
import type { JournalRecord, ExecFinishedEvent } from '../engine/events.js';
import { journalState, runOutcome, stepOutcome, unitOutcome, outcomeWords, isFailureOutcome } from '../engine/outcome.js';
import { failureTail } from '../engine/output-tail.js';
import { stepOf, type RunState } from '../engine/state.js';
import { parseDuration } from '../util/duration.js';

/** values that name a place on the network: an IP, a CIDR, or a dotted DNS name */
export function isNetworkValue(v: string): boolean {
  const s = v.trim();
  const ip = s.replace(/\/\d{1,3}$/, '');
  if (isIP(ip)) return true;
  return /^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(s) && !/^[\w.-]+\.(ya?ml|conf|sh|sql|txt|log|json|xml|qcow2|img|raw)$/i.test(s);
}

export interface Collision { what: string; rehearsal: string; production: string; value: string }

/** Every address, VIP or network value the rehearsal shares with a production inventory. */
export function interlockCollisions(p: Prepared): Collision[] {
  const out: Collision[] = [];
  const reh = p.project.inventories.get(p.plan.inventory.name)!.data;
  const rehValues = new Map<string, string>();
  for (const [name, h] of Object.entries(p.plan.hosts)) if (!h.local) rehValues.set(h.address.toLowerCase(), `host ${name} address`);
  for (const name of Object.keys(reh.hosts)) {
    try { const h = resolveHost(reh, name); rehValues.set(h.address.toLowerCase(), `host ${name} address`); } catch { /* reported by validation */ }
  }
  const addVars = (vars: Record<string, unknown>, where: string) => {
    for (const [k, v] of Object.entries(vars)) if (typeof v === 'string' && isNetworkValue(v)) rehValues.set(v.trim().toLowerCase().replace(/\/\d+$/, ''), `${where} var ${k}`);
  };
  addVars(reh.vars ?? {}, 'inventory');
  for (const s of p.plan.steps) addVars(s.scope.vars, `runbook ${s.runbook}`);
  for (const inv of p.project.inventories.values()) {
    if (inv.data.environment !== 'production') continue;
    const prodValues = new Map<string, string>();
    for (const name of Object.keys(inv.data.hosts)) {
      try { const h = resolveHost(inv.data, name); prodValues.set(h.address.toLowerCase(), `host ${name} address`); } catch { /* invalid */ }
    }
    for (const [k, v] of Object.entries(inv.data.vars ?? {})) if (typeof v === 'string' && isNetworkValue(v)) prodValues.set(v.trim().toLowerCase().replace(/\/\d+$/, ''), `var ${k}`);
    for (const [value, what] of rehValues) {
      const prod = prodValues.get(value) ?? prodValues.get(value.replace(/\/\d+$/, ''));
      if (prod) out.push({ what, rehearsal: p.plan.inventory.name, production: `${inv.data.name} ${prod}`, value });
    }
  }
  return out;
}

/** `before` hook of `lifeboat rehearse`: refuse anything that could touch production. */
export async function rehearsalInterlock(p: Prepared): Promise<string[]> {
  const env = p.plan.inventory.environment;
  if (env !== 'rehearsal') {
    throw new ExitError(EXIT.PROBLEMS, `inventory ${p.plan.inventory.name} is ${env ? `marked environment: ${env}` : 'not marked environment: rehearsal'}: a rehearsal never runs against it`, 'rehearse against a lab inventory with `environment: rehearsal`; use `lifeboat run` for a real recovery');
  }
  const hits = interlockCollisions(p);
  if (hits.length) {
    throw new ExitError(EXIT.PROBLEMS, `the rehearsal inventory ${p.plan.inventory.name} shares addresses with production — refusing to rehearse:\n${hits.map((h) => `  ${h.value}: ${h.what} is also ${h.production}`).join('\n')}`, 'give the lab its own addresses (e.g. 198.18.0.0/24), so a drill can never touch a production server');
  }
  return [`rehearsal interlock: no address of ${p.plan.inventory.name} is used by a production inventory`];
}

/** `before` hook of `lifeboat run`: on production, a stale or missing rehearsal asks once more. */
export async function productionRehearsalCheck(p: Prepared, operator: Operator, interactive: boolean, yes: boolean, warn: (s: string) => void): Promise<string[]> {
  if (p.plan.inventory.environment !== 'production') return [];
  const { readHistoryRecords } = await import('../journal/history.js');
  const { rehearsalStatus, describeRehearsal } = await import('../render/rehearsal-status.js');
  const site = p.project.site?.data;
  const every = site?.rehearse_every ? parseDuration(site.rehearse_every) : undefined;
  const { entries } = readHistoryRecords(p.root);
  const st = rehearsalStatus(entries, p.plan.runbook.name, p.plan.digest, every, new Date());
  if (st.state === 'current') return [`rehearsal: ${describeRehearsal(st)}`];
  const text = `the rehearsal of ${p.plan.runbook.name}@${p.plan.runbook.version} is not current: ${describeRehearsal(st)}`;
  warn(`warning: ${text}`);
  if (!interactive && !yes) throw new ExitError(EXIT.PROBLEMS, `${text}; nobody is there to confirm running it on production`, 'rehearse it (`lifeboat rehearse … -i lab`), or pass --yes to run it anyway (recorded)');
  if (interactive && !yes) {
    const r = await operator.confirm({ step: 'rehearsal-check', title: 'rehearsal check', question: `${text}. Run it on production anyway?` });
    if (!r.answer) throw new ExitError(EXIT.PROBLEMS, 'not run: the rehearsal is not current');
  }
  return [`${text}; run anyway by ${operator.name}`];
}

/** After a rehearsal or a production run: one line in .lifeboat/history.jsonl. */
export async function recordHistory(p: Prepared, records: JournalRecord[], hostKeys: Record<string, string>, stateDir?: string): Promise<string | undefined> {
  const { historyFromJournal, appendHistory } = await import('../journal/history.js');
  const entry = historyFromJournal(records, { hostKeys });
  if (!entry) return undefined;
  return appendHistory(p.root, entry, stateDir ? { stateDir } : {});
}

export const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

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
      const time = u?.startedAt && u.finishedAt ? (u.finishedAt - u.startedAt) / 1000 : ss.startedAt && ss.finishedAt ? (ss.finishedAt - ss.startedAt) / 1000 : 0;
      // the one outcome function decides; an allowed failure is reported by name, not as a failure of the drill
      const o = u ? unitOutcome(js, id, u.host) : stepOutcome(js, id);
      let body = '';
      const last = [...records].reverse().find((r): r is JournalRecord & ExecFinishedEvent => r.type === 'exec-finished' && r.purpose === 'run' && r.step === id && (!u || r.host === u.host));
      const out = last ? failureTail({ stdout: last.stdoutTail, stderr: last.stderrTail }) : '';
      if (isFailureOutcome(o) || o === 'running') {
        failures++;
        const why = o === 'marked-done' ? u?.note ?? 'marked done without evidence' : o === 'failed' ? u?.reason ?? 'failed' : `${outcomeWords(o)}${u?.reason ? `: ${u.reason}` : ''}`;
        body = `<failure message="${xml(why)}">${xml(out)}</failure>`;
      } else if (o === 'allowed-failure') {
        body = `<skipped message="${xml(`allowed failure (on_failure: continue)${u?.reason ? `: ${u.reason}` : ''}`)}"/><system-out>${xml(out)}</system-out>`;
        skipped++;
      } else if (o === 'skipped' || o === 'not-run') {
        skipped++;
        body = `<skipped message="${xml(u?.note ?? ss.note ?? (o === 'not-run' ? 'not reached' : 'skipped'))}"/>`;
      }
      cases.push(`    <testcase classname="${xml(`${p.plan.runbook.name}.${step.phase}`)}" name="${xml(name)}" time="${time.toFixed(3)}">${body}</testcase>`);
    }
  }
  const total = ((state.finishedAt ?? Date.now()) - state.startedAt) / 1000;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="lifeboat rehearsal" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">
  <testsuite name="${xml(`${p.plan.runbook.name}@${p.plan.runbook.version} on ${p.plan.inventory.name}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${total.toFixed(3)}" timestamp="${new Date(state.startedAt).toISOString().slice(0, 19)}">
    <properties>
      <property name="runbook" value="${xml(p.plan.runbook.name)}"/>
      <property name="version" value="${xml(p.plan.runbook.version)}"/>
      <property name="digest" value="${p.plan.digest}"/>
      <property name="inventory" value="${xml(p.plan.inventory.name)}"/>
      <property name="result" value="${outcome.result}"/>${outcome.allowedFailures.length ? `\n      <property name="allowed_failures" value="${xml(outcome.allowedFailures.map((f) => `${f.step}${f.host ? ` on ${f.host}` : ''}`).join(', '))}"/>` : ''}
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
