// A real pseudo-terminal for the CLI: a detached tmux session of this test process's own tmux
// server, its screen read as text and keys sent to it.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cliPath } from './cli.js';
import { waitFor } from './wait.js';
import type { Project } from './project.js';

export interface Tty {
  name: string;
  /** the visible screen and its scrollback, as text */
  screen(): string;
  /** send keys as tmux names them: 'y', 'Enter', 'Down', 'C-c' … */
  keys(...keys: string[]): void;
  /** type literal text */
  type(text: string): void;
  /** wait until the screen matches, return the screen */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** the CLI's exit code, once it printed EXIT=N */
  exitCode(timeoutMs?: number): Promise<number>;
  kill(): void;
}

let ttySeq = 0;
// a tmux server of this test process alone: with a shared one, another file killing its last
// session ends the server under our `new-session` ("server exited unexpectedly")
const TMUX_NAME = `lbtest-${process.pid}`;
const TMUX = ['-L', TMUX_NAME, '-f', '/dev/null'];
const tmux = (args: string[], o: Parameters<typeof execFileSync>[2] = {}) =>
  execFileSync('tmux', [...TMUX, ...args], { env: { ...process.env, TMUX: '' }, ...o });

/** Stop this process's tmux server (afterAll of a file that used tty()). */
export function stopTmux(): void {
  try {
    tmux(['kill-server'], { stdio: 'ignore' });
  } catch {
    /* not running */
  }
  // tmux leaves its socket file behind
  rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, TMUX_NAME), { force: true });
}

/** Start `lifeboat ARGS…` (the private build) in a detached 160x50 tmux session in the project folder. */
export function tty(p: Project, args: string[], env: Record<string, string> = {}): Tty {
  const name = `lbtest-${process.pid}-${++ttySeq}`;
  const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const envs = Object.entries({ HOME: p.dir, LANG: 'C.UTF-8', TERM: 'xterm-256color', ...env })
    .map(([k, v]) => `${k}=${sh(v)}`)
    .join(' ');
  // CI must not be set, or the CLI treats the terminal as unattended
  const cmd = `cd ${sh(p.dir)} && env -u CI ${envs} ${sh(process.execPath)} ${sh(cliPath())} ${args.map(sh).join(' ')}; echo EXIT=$?; sleep 60`;
  tmux(['new-session', '-d', '-s', name, '-x', '160', '-y', '50', cmd]);
  const t: Tty = {
    name,
    screen: () => {
      try {
        return String(tmux(['capture-pane', '-p', '-J', '-S', '-2000', '-t', name], { encoding: 'utf8' }));
      } catch {
        return '';
      }
    },
    keys: (...keys) => {
      tmux(['send-keys', '-t', name, ...keys]);
    },
    type: (text) => {
      tmux(['send-keys', '-l', '-t', name, text]);
    },
    waitFor: (re, timeoutMs = 20_000) =>
      waitFor(
        () => {
          const s = t.screen();
          return re.test(s) ? s : '';
        },
        `${re} on the terminal:\n${t.screen()}`,
        timeoutMs,
      ),
    exitCode: async (timeoutMs = 30_000) => Number(/^EXIT=(\d+)/m.exec(await t.waitFor(/^EXIT=\d+/m, timeoutMs))![1]),
    kill: () => {
      try {
        tmux(['kill-session', '-t', name], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    },
  };
  return t;
}
