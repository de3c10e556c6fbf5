// The setup most integration files share: a loopback sshd started (and the CLI built) before the
// file's tests, projects made against it, everything stopped and removed after them.
import { afterAll, beforeAll } from 'vitest';
import { startSshd, type Sshd, type SshdOptions } from './sshd.js';
import { cliPath } from './cli.js';

export interface SshdSuite<O, P> {
  /** set once the file's beforeAll has run */
  readonly sshd: Sshd;
  /** a project against the sshd, removed after the file */
  project(o?: O): P;
}

export function sshdSuite<O, P extends { remove(): void }>(
  make: (sshd: Sshd, o?: O) => P,
  sshdOptions?: SshdOptions,
): SshdSuite<O, P> {
  let started: Sshd | undefined;
  const projects: P[] = [];
  beforeAll(async () => {
    cliPath();
    started = await startSshd(sshdOptions);
  }, 180_000);
  afterAll(async () => {
    await started?.stop();
    for (const p of projects) p.remove();
  });
  const sshd = () => {
    if (!started) throw new Error('the sshd starts in beforeAll');
    return started;
  };
  return {
    get sshd() {
      return sshd();
    },
    project: (o) => {
      const p = make(sshd(), o);
      projects.push(p);
      return p;
    },
  };
}
