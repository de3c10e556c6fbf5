// Events in words for the terminal — the plain reporter and the live view. The words are
// src/engine/event-words.ts, the same as `lifeboat log` and the run report print.
import type { JournalRecord } from '../engine/events.js';
import { eventWords, type EventWords } from '../engine/event-words.js';
import type { ResolvedHost, SshHost } from '../ports.js';

/** A record in words, every line in full; `detail`: a failed command's last lines of stderr and stdout */
export const describeEvent = (r: JournalRecord): EventWords => eventWords(r);

/** Where a host's connection settings came from, in words (the dry run and preflight print it). */
export function describeHostSources(h: ResolvedHost): string[] {
  const o = h.origins ?? {};
  switch (h.transport) {
    case 'local':
      return [`${h.name} → this machine (no SSH)`, ...(o.local ? [`  local: ${o.local}`] : [])];
    case 'ssh':
      return describeSshSources(h, o);
  }
}

function describeSshSources(h: SshHost, o: Record<string, string>): string[] {
  const target = `${h.user}@${h.address}${h.port !== 22 ? `:${h.port}` : ''}`;
  const byOrigin = new Map<string, string[]>();
  const field = (name: string, label: string) => {
    const from = o[name];
    if (from) byOrigin.set(from, [...(byOrigin.get(from) ?? []), label]);
  };
  field('address', 'address');
  field('port', 'port');
  field('user', 'user');
  field('jump', 'jump host');
  field('proxyCommand', 'ProxyCommand');
  field('hostKeyAlias', 'HostKeyAlias');
  field('identityFiles', 'identity files');
  field('knownHosts', 'known_hosts');
  field('connectTimeoutMs', 'connect timeout');
  const lines = [`${h.name} → ${target}${h.hostKey ? ` (host key pinned: ${h.hostKey})` : ''}`];
  if (h.proxyCommand) lines.push(`  through ProxyCommand: ${h.proxyCommand}`);
  for (let j = h.jump; j; j = j.jump)
    lines.push(
      `  through jump host ${j.name} (${j.user}@${j.address}${j.port !== 22 ? `:${j.port}` : ''}${j.proxyCommand ? `, ProxyCommand: ${j.proxyCommand}` : ''})`,
    );
  for (const [from, labels] of byOrigin) lines.push(`  ${labels.join(', ')}: ${from}`);
  return lines;
}
