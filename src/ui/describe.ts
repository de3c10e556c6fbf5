// Events in words — shared by the plain reporter, the live view and `lifeboat log`.
import type { JournalRecord } from '../engine/events.js';
import { formatDuration } from '../util/duration.js';
import { failureTail } from '../engine/output-tail.js';
import { describeRpo, rpoLevel } from '../engine/rpo.js';
import type { ResolvedHost, SshHost } from '../ports.js';

/** `detail`: for a failed command, the last lines of its stderr and stdout (outputTail), shown under the line */
export function describeEvent(
  r: JournalRecord,
):
  | { step?: string; host?: string; text: string; level: 'info' | 'ok' | 'warn' | 'error'; detail?: string[] }
  | undefined {
  switch (r.type) {
    case 'run-started':
      return {
        text:
          `run ${r.runId}: ${r.runbook}@${r.version} on ${r.inventory}${r.environment ? ` (${r.environment})` : ''}` +
          ` by ${r.operator}${r.fromStep ? `, from step ${r.fromStep}` : ''}${r.toStep ? `, to step ${r.toStep}` : ''}`,
        level: 'info',
      };
    case 'host-state':
      return {
        host: r.host,
        text: r.reachable ? 'connected' : `unreachable: ${r.message ?? r.kind}`,
        level: r.reachable ? 'info' : 'warn',
      };
    case 'step-started':
      return { step: r.step, text: 'started', level: 'info' };
    case 'step-skipped':
      return { step: r.step, host: r.host, text: `skipped: ${r.note}`, level: 'info' };
    case 'confirmed':
      return {
        step: r.step,
        text: `confirm "${r.question}" → ${r.answer ? 'yes' : 'no'} by ${r.by}${r.auto ? ' (--yes)' : ''}`,
        level: r.answer ? 'info' : 'warn',
      };
    case 'manual-done':
      return {
        step: r.step,
        text:
          `manual step ${r.done ? 'done' : 'NOT done'} by ${r.by}` +
          `${r.record ? `, recorded ${r.record}=${r.value ?? ''}` : ''}${r.auto ? ' (--yes-manual)' : ''}`,
        level: r.done ? 'info' : 'warn',
      };
    case 'intent':
      return {
        step: r.step,
        host: r.host,
        text: `${r.purpose === 'run' ? (r.attempt > 1 ? `attempt ${r.attempt}: ` : '') : `${r.purpose}: `}$ ${r.command}`,
        level: 'info',
      };
    case 'exec-finished': {
      const what =
        r.purpose === 'skip_if'
          ? r.ok
            ? 'skip_if guard held: step skipped'
            : 'guard did not hold: running the step'
          : r.purpose === 'rollback'
            ? r.ok
              ? 'rolled back'
              : `rollback FAILED: ${r.reason}`
            : r.ok
              ? 'ok'
              : r.pollAgain
                ? `not yet (${r.reason})`
                : `FAILED: ${r.reason}`;
      const lvl = r.ok || r.purpose === 'skip_if' ? 'ok' : r.pollAgain ? 'info' : 'error';
      const tail =
        !r.ok && !r.pollAgain && r.purpose !== 'skip_if'
          ? failureTail({ stdout: r.stdoutTail, stderr: r.stderrTail })
          : '';
      return {
        step: r.step,
        host: r.host,
        text:
          `${what} (${r.exitCode === null ? 'no exit code' : `exit ${r.exitCode}`}, ${formatDuration(r.durationMs)})` +
          `${r.captured ? ` captured ${r.captured.name}=${r.captured.value}` : ''}`,
        level: lvl,
        detail: tail ? tail.split('\n') : undefined,
      };
    }
    case 'exec-error':
      return {
        step: r.step,
        host: r.host,
        text:
          (r.kind === 'connection-lost'
            ? 'CONNECTION LOST'
            : r.kind === 'unreachable'
              ? 'UNREACHABLE'
              : r.kind === 'host-key-unknown' || r.kind === 'host-key-changed'
                ? 'REFUSED'
                : 'ERROR') + `: ${r.message}`,
        level: 'error',
      };
    case 'step-finished':
      return {
        step: r.step,
        text: `${r.result} (${formatDuration(r.durationMs)})`,
        level: r.result === 'failed' ? 'warn' : 'ok',
      };
    case 'failure-decision':
      return {
        step: r.step,
        host: r.host,
        text: `on failure: ${r.choice} (${r.auto ? 'policy' : `by ${r.by}`})`,
        level: 'warn',
      };
    case 'in-doubt':
      return {
        step: r.step,
        host: r.host,
        text:
          'in doubt after a stop: ' +
          (r.choice === 'guard'
            ? 'its skip_if guard decides'
            : r.choice === 'rerun'
              ? 'run again (idempotent)'
              : r.choice === 'done'
                ? 'marked done'
                : 'abort') +
          ` (${r.auto ? 'policy' : `by ${r.by}`})`,
        level: 'warn',
      };
    case 'rollback-started':
      return {
        text:
          `rolling back ${r.units.length} step${r.units.length === 1 ? '' : 's'}: ` +
          `${r.units.map((u) => `${u.step}@${u.host}`).join(', ') || 'nothing to undo'}`,
        level: 'warn',
      };
    case 'resumed':
      return {
        text:
          `resumed by ${r.operator}` +
          `${r.inDoubt.length ? `; in doubt: ${r.inDoubt.map((d) => `${d.step}@${d.host}`).join(', ')}` : ''}` +
          `${r.acceptedChanges?.length ? `; accepted changes: ${r.acceptedChanges.join(', ')}` : ''}`,
        level: 'warn',
      };
    case 'interrupted':
      return {
        text: `interrupted by ${r.by}: ${r.how === 'stop-step' ? 'stopping the running commands' : 'stopping after this step'}`,
        level: 'warn',
      };
    case 'rpo-measured':
      return { step: r.step, text: describeRpo(r), level: rpoLevel(r) };
    // whether it succeeded is the summary's to say (runOutcome): a skipped failure makes it "completed with errors"
    case 'run-finished':
      return {
        text: `run ${r.result === 'succeeded' ? 'reached its end' : r.result} in ${formatDuration(r.durationMs)}${r.message ? `: ${r.message}` : ''}`,
        level: r.result === 'succeeded' ? 'ok' : 'error',
      };
  }
}

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
