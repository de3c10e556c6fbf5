// Path fields of inventories may use ~ and ${VAR} / ${VAR:-default}, so one committed
// inventory works on every operator's machine (and the lab's generated files can be found).
import os from 'node:os';

export function expandPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = p.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def?: string) => {
    const v = env[name];
    return v !== undefined && v !== '' ? v : (def ?? '');
  });
  if (out === '~' || out.startsWith('~/')) out = (env.HOME || os.homedir()) + out.slice(1);
  return out;
}
