// Break glass: every inventory host, who uses it, and the plain OpenSSH command that reaches
// it without lifeboat.
import type { Inventory } from '../../model/types.js';
import { resolveHost } from '../../plan/resolve.js';
import { shellQuote } from '../../util/shell-quote.js';
import type { ResolvedRunbooks } from './resolved.js';

export interface HostView {
  name: string;
  address: string;
  addressFromSshConfig: boolean;
  user: string;
  port: number;
  jump?: string;
  hostKey?: string;
  knownHosts: string[];
  description?: string;
  mayBeDown: boolean;
  usedBy: string[];
  /** hosts reached through this one */
  jumpFor: string[];
  /** the break-glass command: plain OpenSSH, no lifeboat needed */
  ssh: string;
  /** the key file the command names (-i), as the inventory writes it */
  keyFile?: string;
  /** where the key or password physically lives (never the secret) */
  credentials?: string;
}

/** `user@address:port` of a jump chain, outermost first, for `ssh -J` */
function jumpChain(inv: Inventory, name: string): string[] {
  const out: string[] = [];
  let h = resolveHost(inv, name, { env: {} });
  while (h.jump) {
    out.unshift(`${h.jump.user}@${h.jump.address}:${h.jump.port}`);
    h = h.jump;
  }
  return out;
}

export function hostViews(
  invData: Inventory,
  knownHosts: string[],
  used: Pick<ResolvedRunbooks, 'usedBy' | 'mayBeDown'>,
): HostView[] {
  const jumpFor = new Map<string, string[]>();
  for (const name of Object.keys(invData.hosts).sort()) {
    for (let j = resolveHost(invData, name, { env: {} }).jump; j; j = j.jump)
      jumpFor.set(j.name, [...(jumpFor.get(j.name) ?? []), name]);
  }
  return Object.keys(invData.hosts)
    .sort()
    .map((name) => {
      const h = resolveHost(invData, name, { env: {} });
      const chain = jumpChain(invData, name);
      const keyFile = invData.hosts[name].identity_file ?? invData.defaults?.identity_file;
      return {
        name,
        address: h.address,
        addressFromSshConfig: !invData.hosts[name].address,
        user: h.user,
        port: h.port,
        jump: chain.length ? chain.join(' → ') : undefined,
        hostKey: h.hostKey,
        knownHosts,
        description: invData.hosts[name].description,
        mayBeDown: used.mayBeDown.has(name),
        usedBy: [...(used.usedBy.get(name) ?? [])].sort(),
        jumpFor: jumpFor.get(name) ?? [],
        ssh: breakGlassSsh(h, chain, keyFile, knownHosts),
        keyFile,
        credentials: invData.hosts[name].credentials ?? invData.defaults?.credentials,
      };
    });
}

/** the plain OpenSSH command that reaches a host without lifeboat */
function breakGlassSsh(
  h: { user: string; address: string; port: number },
  chain: string[],
  keyFile: string | undefined,
  knownHosts: string[],
): string {
  const kh =
    knownHosts.length === 1 && knownHosts[0] === '~/.ssh/known_hosts'
      ? ''
      : `-o UserKnownHostsFile=${knownHosts.map((k) => (knownHosts.length > 1 ? `"${k}"` : k)).join(' ')} `;
  // inventory values are quoted like runbook values: the printed command is safe to paste
  // (a leading ~ stays unquoted so the shell expands it)
  const key = keyFile
    ? `-i ${keyFile.startsWith('~/') ? `~/${shellQuote(keyFile.slice(2))}` : shellQuote(keyFile)} -o IdentitiesOnly=yes `
    : '';
  return `ssh ${key}${kh}${chain.length ? `-J ${shellQuote(chain.join(','))} ` : ''}${shellQuote(`${h.user}@${h.address}`)} -p ${h.port}`;
}
