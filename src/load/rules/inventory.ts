// An inventory's own rules: environment said, jump hosts that exist and form no loop.
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Inventory } from '../../model/types.js';
import type { Loaded } from '../project.js';
import type { YamlPath } from '../read-yaml.js';
import { didYouMean } from '../../util/suggest.js';
import { diagAt } from '../positions.js';

export function checkInventory(inv: Loaded<Inventory>, out: Diagnostic[]): void {
  const f = inv.file;
  const hosts = inv.data.hosts;
  const names = Object.keys(hosts);
  if (inv.data.environment === undefined) {
    out.push(
      diagAt(
        f,
        ['kind'],
        true,
        'warning',
        'no-environment',
        `inventory '${inv.data.name}' does not say whether it is production or rehearsal`,
        inv.ansible
          ? 'set lifeboat_environment=production or lifeboat_environment=rehearsal in the vars of all: a rehearsal refuses production inventories'
          : 'add `environment: production` or `environment: rehearsal`: a rehearsal refuses production inventories',
      ),
    );
  }
  const jumpOf = (h: string): string | undefined =>
    hosts[h]?.jump ?? (h !== inv.data.defaults?.jump ? inv.data.defaults?.jump : undefined);
  if (inv.data.defaults?.jump !== undefined && !(inv.data.defaults.jump in hosts)) {
    out.push(
      diagAt(
        f,
        ['defaults', 'jump'],
        false,
        'error',
        'unknown-host',
        `defaults.jump: '${inv.data.defaults.jump}' is not a host of this inventory${didYouMean(inv.data.defaults.jump, names)}`,
        'jump hosts are inventory hosts: add it under `hosts:`',
      ),
    );
  }
  const reported = new Set<string>();
  for (const [name, h] of Object.entries(hosts)) {
    if (h.jump !== undefined && !(h.jump in hosts)) {
      out.push(
        diagAt(
          f,
          ['hosts', name, 'jump'],
          false,
          'error',
          'unknown-host',
          `host '${name}' jumps through '${h.jump}', which is not a host of this inventory${didYouMean(h.jump, names)}`,
          'jump hosts are inventory hosts: add it under `hosts:`',
        ),
      );
      continue;
    }
    // follow the jump chain; a repeat is a loop
    const chain = [name];
    for (let j = jumpOf(name); j !== undefined && j in hosts; j = jumpOf(j)) {
      if (chain.includes(j)) {
        const loop = chain.slice(chain.indexOf(j));
        const key = [...loop].sort().join(',');
        if (!reported.has(key) && loop.includes(name)) {
          reported.add(key);
          const path: YamlPath = hosts[name].jump !== undefined ? ['hosts', name, 'jump'] : ['defaults', 'jump'];
          out.push(
            diagAt(
              f,
              path,
              false,
              'error',
              'jump-loop',
              `jump hosts form a loop: ${[...loop, j].join(' → ')}`,
              'one host of the chain must be reachable directly (no jump:)',
            ),
          );
        }
        break;
      }
      chain.push(j);
    }
  }
}
