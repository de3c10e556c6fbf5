// host_vars/ and group_vars/ beside an Ansible inventory: each group's and host's vars files,
// read with their positions.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readYamlFile } from '../read-yaml.js';
import { compareText } from '../../util/compare.js';
import { diag, isObj, type AVar, type ParsedAnsible } from './model.js';

/** group_vars/NAME{,.yml,.yaml,.json} and host_vars/NAME…, or a folder NAME/ of such files */
export function readVarsFolders(inv: ParsedAnsible, dir: string): void {
  const read = (kind: 'group_vars' | 'host_vars', name: string): Map<string, AVar> | undefined => {
    const base = path.join(dir, kind, name);
    const files: string[] = [];
    for (const f of [base, `${base}.yml`, `${base}.yaml`, `${base}.json`]) {
      try {
        if (existsSync(f) && statSync(f).isFile()) files.push(f);
      } catch {
        /* unreadable: not there */
      }
    }
    try {
      if (existsSync(base) && statSync(base).isDirectory()) {
        for (const e of readdirSync(base).sort(compareText))
          if (/\.(ya?ml|json)$/i.test(e)) files.push(path.join(base, e));
      }
    } catch {
      /* unreadable folder: nothing from it */
    }
    if (!files.length) return undefined;
    const out = new Map<string, AVar>();
    for (const f of files) {
      const r = readYamlFile(
        path.relative(process.cwd(), f) && !path.relative(process.cwd(), f).startsWith('..')
          ? path.relative(process.cwd(), f)
          : f,
      );
      if (!r.file) {
        // an empty vars file is no mistake in Ansible
        inv.diagnostics.push(...r.diagnostics.filter((d) => d.code !== 'empty-file'));
        continue;
      }
      inv.extraFiles.push(r.file);
      if (r.file.data === null || r.file.data === undefined) continue;
      if (!isObj(r.file.data)) {
        inv.diagnostics.push(
          diag(
            { file: r.file.file, line: 1, col: 1 },
            'error',
            'ansible-inventory',
            `${kind}/${name}: must be a mapping of variables`,
            'write `name: value` lines',
          ),
        );
        continue;
      }
      for (const [k, v] of Object.entries(r.file.data)) {
        const s = r.file.spanOf([k], true);
        out.set(k, {
          name: k,
          value: v,
          at: {
            file: r.file.file,
            line: s.line,
            col: s.col,
            ...(s.endLine === s.line && s.endCol > s.col ? { endCol: s.endCol } : {}),
          },
        });
      }
    }
    return out;
  };
  for (const g of inv.groups.keys()) {
    const v = read('group_vars', g);
    if (v) inv.groupFileVars.set(g, v);
  }
  for (const h of inv.hosts.keys()) {
    const v = read('host_vars', h);
    if (v) inv.hostFileVars.set(h, v);
  }
}
