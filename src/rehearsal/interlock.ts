// The rehearsal interlock: a rehearsal runs only against an inventory marked rehearsal that
// shares no address with production. And the production-side check: a run on production of a
// runbook whose rehearsal is not current warns and asks once more.
import { isIP } from 'node:net';
import type { Prepared } from '../session/prepare.js';
import type { Operator } from '../ports.js';
import { EXIT, ExitError } from '../cli/exit.js';
import { resolveHost } from '../plan/resolve.js';
import { parseDuration } from '../util/duration.js';
import { dials } from '../transport/registry.js';

/** values that name a place on the network: an IP, a CIDR, or a dotted DNS name */
export function isNetworkValue(v: string): boolean {
  const s = v.trim();
  const ip = s.replace(/\/\d{1,3}$/, '');
  if (isIP(ip)) return true;
  return (
    /^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(s) &&
    !/^[\w.-]+\.(ya?ml|conf|sh|sql|txt|log|json|xml|qcow2|img|raw)$/i.test(s)
  );
}

export interface Collision {
  what: string;
  rehearsal: string;
  production: string;
  value: string;
}

/** Every address, VIP or network value the rehearsal shares with a production inventory. */
export function interlockCollisions(p: Prepared): Collision[] {
  const out: Collision[] = [];
  const reh = p.project.inventories.get(p.plan.inventory.name)!.data;
  const rehValues = new Map<string, string>();
  for (const [name, h] of Object.entries(p.plan.hosts))
    if (dials(h)) rehValues.set(h.address.toLowerCase(), `host ${name} address`);
  for (const name of Object.keys(reh.hosts)) {
    try {
      const h = resolveHost(reh, name);
      rehValues.set(h.address.toLowerCase(), `host ${name} address`);
    } catch {
      /* reported by validation */
    }
  }
  const addVars = (vars: Record<string, unknown>, where: string) => {
    for (const [k, v] of Object.entries(vars))
      if (typeof v === 'string' && isNetworkValue(v))
        rehValues.set(
          v
            .trim()
            .toLowerCase()
            .replace(/\/\d+$/, ''),
          `${where} var ${k}`,
        );
  };
  addVars(reh.vars ?? {}, 'inventory');
  for (const s of p.plan.steps) addVars(s.scope.vars, `runbook ${s.runbook}`);
  for (const inv of p.project.inventories.values()) {
    if (inv.data.environment !== 'production') continue;
    const prodValues = new Map<string, string>();
    for (const name of Object.keys(inv.data.hosts)) {
      try {
        const h = resolveHost(inv.data, name);
        prodValues.set(h.address.toLowerCase(), `host ${name} address`);
      } catch {
        /* invalid */
      }
    }
    for (const [k, v] of Object.entries(inv.data.vars ?? {}))
      if (typeof v === 'string' && isNetworkValue(v))
        prodValues.set(
          v
            .trim()
            .toLowerCase()
            .replace(/\/\d+$/, ''),
          `var ${k}`,
        );
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
    throw new ExitError(
      EXIT.PROBLEMS,
      `inventory ${p.plan.inventory.name} is ${env ? `marked environment: ${env}` : 'not marked environment: rehearsal'}: a rehearsal never runs against it`,
      'rehearse against a lab inventory with `environment: rehearsal`; use `lifeboat run` for a real recovery',
    );
  }
  const hits = interlockCollisions(p);
  if (hits.length) {
    throw new ExitError(
      EXIT.PROBLEMS,
      `the rehearsal inventory ${p.plan.inventory.name} shares addresses with production — refusing to rehearse:\n` +
        `${hits.map((h) => `  ${h.value}: ${h.what} is also ${h.production}`).join('\n')}`,
      'give the lab its own addresses (e.g. 198.18.0.0/24), so a drill can never touch a production server',
    );
  }
  return [`rehearsal interlock: no address of ${p.plan.inventory.name} is used by a production inventory`];
}

/** `before` hook of `lifeboat run`: on production, a stale or missing rehearsal asks once more. */
export async function productionRehearsalCheck(
  p: Prepared,
  operator: Operator,
  interactive: boolean,
  yes: boolean,
  warn: (s: string) => void,
): Promise<string[]> {
  if (p.plan.inventory.environment !== 'production') return [];
  const { readHistoryRecords } = await import('./history.js');
  const { rehearsalStatus, describeRehearsal } = await import('./status.js');
  const site = p.project.site?.data;
  const every = site?.rehearse_every ? parseDuration(site.rehearse_every) : undefined;
  const { entries } = readHistoryRecords(p.root);
  const st = rehearsalStatus(entries, p.plan.runbook.name, p.plan.digest, every, new Date());
  if (st.state === 'current') return [`rehearsal: ${describeRehearsal(st)}`];
  const text = `the rehearsal of ${p.plan.runbook.name}@${p.plan.runbook.version} is not current: ${describeRehearsal(st)}`;
  warn(`warning: ${text}`);
  if (!interactive && !yes)
    throw new ExitError(
      EXIT.PROBLEMS,
      `${text}; nobody is there to confirm running it on production`,
      'rehearse it (`lifeboat rehearse … -i lab`), or pass --yes to run it anyway (recorded)',
    );
  if (interactive && !yes) {
    const r = await operator.confirm({
      step: 'rehearsal-check',
      title: 'rehearsal check',
      question: `${text}. Run it on production anyway?`,
    });
    if (!r.answer) throw new ExitError(EXIT.PROBLEMS, 'not run: the rehearsal is not current');
  }
  return [`${text}; run anyway by ${operator.name}`];
}
