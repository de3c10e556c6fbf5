// Private keys and secret files: a key others can read is not used (as ssh refuses it), with the
// fix in the message; a secret file others can read gets a warning; neither a key nor its
// passphrase ever reaches the state folder or the terminal.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, copyFileSync, existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useHostileProjects, runbookYaml, filesUnder, inventoryYaml } from '../helpers/hostile-project.js';

const lab = useHostileProjects();
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'lb-keys-'));
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('private keys', () => {
  it('a key others can read is not used: the run stops with the chmod fix; after chmod 600 it runs', async () => {
    const key = path.join(scratch, 'open_key');
    copyFileSync(lab.sshd.clientKeyPath, key);
    chmodSync(key, 0o644);
    const p = lab.project();
    p.write(
      'inventories/t.yaml',
      inventoryYaml(lab.sshd).replace(JSON.stringify(lab.sshd.clientKeyPath), JSON.stringify(key)),
    );
    const marker = path.join(scratch, 'ran');
    p.write('rb.yaml', runbookYaml('rb', `  - id: touch\n    on: t\n    run: touch ${marker}`));
    const r = await p.run('rb');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      `${key} (readable by others, mode 644: chmod 600 ${key}; ssh refuses it too)`,
    );
    expect(existsSync(marker)).toBe(false);
    chmodSync(key, 0o600);
    const ok = await p.run('rb');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    // nothing of the key is kept anywhere in the state folder
    const body = readFileSync(key, 'utf8').split('\n')[1];
    for (const f of filesUnder(p.stateDir)) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toContain('PRIVATE KEY');
      expect(text, f).not.toContain(body);
    }
  });
});

describe('secret files', () => {
  it('a secret file readable by group or others is warned about with the fix; a 0600 one is not; the value is used either way', async () => {
    const p = lab.project({ vars: { out: path.join(scratch, 'secret-out') } });
    const f = p.write('pw.txt', 'file-secret-value-8841\n', 0o640);
    chmodSync(f, 0o640);
    p.write(
      'rb.yaml',
      runbookYaml(
        'rb',
        '  - id: use\n    on: t\n    env: { S: "{{ secrets.s }}" }\n    run: printf %s "$S" > {{ vars.out }}',
        'secrets:\n  s: { file: pw.txt }',
      ),
    );
    const r = await p.run('rb');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: secret 's' comes from ${f}, which others can read (mode 640): chmod 600 ${f}`);
    // the trailing newline of the file is not part of the secret
    expect(readFileSync(path.join(scratch, 'secret-out'), 'utf8')).toBe('file-secret-value-8841');
    expect(r.stdout + r.stderr).not.toContain('file-secret-value-8841');
    chmodSync(f, 0o600);
    const quiet = await p.run('rb');
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/secret 's' comes from/);
  });

  it('a missing secret file stops the run before anything connects', async () => {
    const p = lab.project();
    p.write(
      'rb.yaml',
      runbookYaml('rb', '  - id: use\n    on: t\n    run: "true"', 'secrets:\n  s: { file: nope.txt }'),
    );
    const r = await p.run('rb');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`secret 's': file ${path.join(p.dir, 'nope.txt')} not found`);
    expect(r.stdout).not.toMatch(/connected/);
  });
});
