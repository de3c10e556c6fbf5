// EMERGENCY.txt: the first page of the go-bag. The commands to type, in order, and where each
// credential comes from (never a secret itself), in plain text that reads the same on any
// screen or printer. Made from the plan's view model, so its order, names and secret sources
// are the plan's own (pure: no I/O).
import type { Project } from '../load/project.js';
import type { Site } from '../model/types.js';
import type { PlanModel } from '../render/plan-model.js';
import type { PhaseChoice } from '../render/plan-model/site.js';
import { printable } from '../util/printable.js';

export interface KnownHostsCopy {
  inventory: string;
  /** as the inventory writes it */
  written: string;
  /** expanded on the machine that built the kit */
  resolved: string;
  /** where the kit holds a copy (undefined: the file did not exist) */
  kitPath?: string;
  /** inside the site folder: the kit's copy is where the inventory looks */
  inside: boolean;
}

export interface EmergencyInput {
  project: Project;
  inventories: string[];
  knownHosts: KnownHostsCopy[];
  version: string;
  plans: { inventory: string; digest: string; model?: PlanModel }[];
  now: Date;
}

const line = (s = '') => `${s}\n`;
const wrapIndent = (text: string, indent: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => `${indent}${printable(l)}`)
    .join('\n');

/** Step 4: the site's recovery order as the plan prints it: phases, and alternatives marked as such (run one). */
function recoveryOrder(model: PlanModel | undefined, main: string): string {
  let t = '';
  const facts = (rb: string) => model?.services.find((v) => v.runbooks.some((r) => r.runbook === rb));
  const commands = (rb: string, indent: string) => {
    t += line(`${indent}../lifeboat preflight ${rb} -i ${main}`);
    t += line(`${indent}../lifeboat run ${rb} -i ${main} --dry-run`);
    t += line(`${indent}../lifeboat run ${rb} -i ${main}`);
  };
  const about = (c: PhaseChoice) => {
    const f = facts(c.runbook);
    return `${printable(c.service)} (${c.tier}${f ? `, RTO ${f.rto || '-'}, RPO ${f.rpo || '-'}` : ''}; plan section ${c.section}): runbook ${c.runbook}`;
  };
  let n = 0;
  for (const p of model?.phases ?? []) {
    for (const e of p.entries) {
      n++;
      if (!e.alternatives) {
        t += line(`   ${String(n).padStart(2)}. ${about(e.choices[0])}`);
        commands(e.choices[0].runbook, '         ');
        continue;
      }
      t += line(`   ${String(n).padStart(2)}. ONE of these ${e.choices.length} alternatives, not all of them:`);
      for (const c of e.choices) {
        t += line(`       - ${c.when ? `when ${printable(c.when)}: ` : ''}${about(c)}`);
        commands(c.runbook, '           ');
      }
    }
  }
  if (!n) t += line('   (the plan lists no service)');
  return t;
}

/** The secrets the runbooks ask for, each with where it comes from and which runbooks ask. */
function secretSources(model: PlanModel | undefined): string {
  const secrets = new Map<string, string[]>();
  for (const rb of model?.runbooks ?? [])
    for (const s of rb.secrets)
      secrets.set(`${s.name}: ${s.source}`, [...(secrets.get(`${s.name}: ${s.source}`) ?? []), rb.name]);
  if (!secrets.size) return line('  The runbooks ask for no secret.');
  let t = line('  Secrets the runbooks ask for:');
  for (const [what, books] of [...secrets].sort()) t += line(`    - ${printable(what)} (${books.join(', ')})`);
  return t;
}

/** How one inventory's hosts are reached: its private keys, and where the kit holds their host keys. */
function sshAccess(project: Project, name: string, knownHosts: KnownHostsCopy[]): string {
  const inv = project.inventories.get(name)!.data;
  const ids = new Set<string>();
  if (inv.defaults?.identity_file) ids.add(inv.defaults.identity_file);
  for (const h of Object.values(inv.hosts)) if (h.identity_file) ids.add(h.identity_file);
  let t = line(
    `  SSH for inventory ${name}: ` +
      (ids.size
        ? `private key ${[...ids].map(printable).join(', ')}`
        : 'the keys in ssh-agent or ~/.ssh (no identity_file set)'),
  );
  for (const k of knownHosts.filter((c) => c.inventory === name)) {
    if (!k.kitPath)
      t += line(
        `    host keys: ${printable(k.written)} (did not exist when the kit was built: the hosts' keys must be checked by hand)`,
      );
    else if (k.inside) t += line(`    host keys: ${printable(k.written)} (in the kit: ${k.kitPath})`);
    else
      t += line(
        `    host keys: ${printable(k.written)}; a copy is in the kit: ${k.kitPath}\n` +
          `      on a new machine: put it where the inventory looks (${printable(k.resolved)})`,
      );
  }
  return t;
}

/** The site's people: who to call, the escalation, where the printed copies of the plan are. */
function people(site: Site | undefined): string {
  let t = '';
  const contacts = site?.contacts ?? [];
  if (contacts.length) {
    t += line('  Who to call:');
    for (const c of contacts)
      t += line(
        `    - ${[c.name, c.role, c.phone, c.email]
          .filter(Boolean)
          .map((x) => printable(String(x)))
          .join(' · ')}`,
      );
  }
  if (site?.escalation) {
    t += line('  Escalation:');
    t += line(wrapIndent(site.escalation, '    '));
  }
  if (site?.plan_copies?.length)
    t += line(`  Printed copies of the plan: ${site.plan_copies.map((c) => printable(c)).join('; ')}`);
  return t;
}

export function emergencyText(input: EmergencyInput): string {
  const { project, inventories } = input;
  const site = project.site?.data;
  // the inventory to recover with: a production one when the kit holds it
  const main = inventories.find((n) => project.inventories.get(n)?.data.environment === 'production') ?? inventories[0];
  const model = input.plans.find((p) => p.inventory === main)?.model;
  let t = '';
  t += line(`EMERGENCY — ${printable(site?.organisation ?? 'DR kit')}`);
  t += line(
    `lifeboat ${input.version} kit, built ${input.now.toISOString().slice(0, 16).replace('T', ' ')} UTC for linux-x64 (no Node.js needed)`,
  );
  t += line();
  t += line('1. Check the kit is whole (names any changed, missing or extra file):');
  t += line('     cd THIS-FOLDER && ./lifeboat kit verify .');
  t += line('   Without a working executable: sha256sum -c MANIFEST.sha256');
  t += line('2. Read the plan: plan/dr-plan-' + main + '.pdf (or .html in any browser). Every step is');
  t += line('   printed there with its exact command, for recovery by hand if this executable cannot run.');
  t += line('3. Work from the project folder (runs are journaled under project/.lifeboat):');
  t += line('     cd project');
  t += line('     ../lifeboat validate .');
  t += line('     ../lifeboat drills            # which procedures were rehearsed, and when');
  t += line(`4. For each service, in this order: check, look, then run (inventory ${main}):`);
  t += recoveryOrder(model, main);
  t += line('   After a crash, a dropped connection or Ctrl-C:  ../lifeboat resume');
  if (!inventories.some((n) => project.inventories.get(n)?.data.environment === 'production')) {
    t += line();
    t += line('   NOTE: this kit holds no production inventory (build it with --inventory NAME to include');
    t += line("   one). Write one from the plan's host table, or copy it in, before a real recovery.");
  }
  t += line();
  t += line('WHERE THE CREDENTIALS LIVE (this kit holds no secret)');
  t += secretSources(model);
  for (const name of inventories) t += sshAccess(project, name, input.knownHosts);
  t += people(site);
  t += line();
  t += line('THIS KIT');
  for (const p of input.plans) t += line(`  plan digest (${p.inventory}): ${p.digest}`);
  t += line('  kit digest: the file KIT-DIGEST (sha256 of MANIFEST.sha256); compare it with the one');
  t += line("  recorded in the site's .lifeboat/history.jsonl or printed when the kit was built.");
  return t;
}
