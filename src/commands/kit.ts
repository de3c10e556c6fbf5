// lifeboat kit -o DIR: the go-bag (src/kit/build.ts); lifeboat kit verify DIR: is it whole?
import path from 'node:path';
import { EXIT } from '../cli/exit.js';
import type { CliIO } from '../cli/io.js';
import { findRoot } from '../load/project.js';
import { appendHistory, type KitRecord } from '../rehearsal/history.js';
import { operatorName } from '../ui/operator.js';
import { printable } from '../util/printable.js';

export interface KitCmdOptions {
  output?: string;
  tar?: string;
  inventory?: string[];
  stateDir?: string;
  now?: Date;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export async function kitCommand(dir: string | undefined, opts: KitCmdOptions, io: CliIO): Promise<number> {
  // not a required option to commander: `kit verify DIR` would then ask for it too
  if (!opts.output) {
    io.stderr.write('lifeboat kit: give the kit folder to write: -o DIR\n(run with --help for usage)\n');
    return EXIT.USAGE;
  }
  const { buildKit, KIT_PLATFORMS } = await import('../kit/build.js');
  const root = findRoot(path.resolve(io.cwd, dir ?? '.'));
  const now =
    opts.now ??
    (io.env.SOURCE_DATE_EPOCH && /^\d+$/.test(io.env.SOURCE_DATE_EPOCH)
      ? new Date(Number(io.env.SOURCE_DATE_EPOCH) * 1000)
      : undefined);
  const r = await buildKit({
    root,
    out: path.resolve(io.cwd, opts.output),
    tar: opts.tar ? path.resolve(io.cwd, opts.tar) : undefined,
    inventories: opts.inventory ?? [],
    env: io.env,
    now,
    log: (l) => io.stderr.write(`${l}\n`),
  });
  const record: KitRecord = {
    kind: 'kit',
    kit_digest: r.digest,
    built_at: new Date().toISOString(),
    operator: operatorName(),
    lifeboat: (await import('../render/assets.js')).packageVersion(),
    platforms: [...KIT_PLATFORMS],
    inventories: r.inventories,
    plans: r.plans,
    files: r.projectFiles,
  };
  const history = await appendHistory(root, record, {
    stateDir: opts.stateDir ? path.resolve(io.cwd, opts.stateDir) : undefined,
  });
  const rel = (p: string) => path.relative(io.cwd, p) || '.';
  io.stdout.write(
    `kit: ${rel(r.dir)} (${r.files} files, ${mib(r.bytes)}; ` +
      `the executable ${mib(r.executableBytes)}, for ${KIT_PLATFORMS.join(', ')}) in ${(r.ms / 1000).toFixed(1)} s\n`,
  );
  io.stdout.write(`  kit digest   ${r.digest}\n`);
  for (const p of r.plans) io.stdout.write(`  plan digest  ${p.digest} (${p.inventory})\n`);
  io.stdout.write(`  inventories  ${r.inventories.join(', ')}\n`);
  if (r.codeCache === 'rejected')
    io.stdout.write(
      '  note: the executable starts without its code cache (V8 refused it): it works, ~50 ms slower to start\n',
    );
  if (r.tar) io.stdout.write(`  tarball      ${rel(r.tar)}\n`);
  io.stdout.write(`recorded in ${rel(history)}; start with ${rel(path.join(r.dir, 'EMERGENCY.txt'))}\n`);
  return EXIT.OK;
}

export interface KitVerifyOptions {
  digest?: string;
  json?: boolean;
}

export async function kitVerifyCommand(dir: string, opts: KitVerifyOptions, io: CliIO): Promise<number> {
  const { verifyKit } = await import('../kit/verify.js');
  const r = await verifyKit(path.resolve(io.cwd, dir), { expectDigest: opts.digest });
  if (opts.json) {
    io.stdout.write(JSON.stringify(r, null, 2) + '\n');
  } else if (r.ok) {
    io.stdout.write(
      `kit ${dir}: every file matches MANIFEST.sha256 and every plan matches the runbooks\n  kit digest ${r.digest}\n`,
    );
    for (const p of r.plans) io.stdout.write(`  plan digest ${p.actual} (${p.inventory})\n`);
  } else {
    io.stdout.write(`kit ${dir} is NOT as built:\n`);
    // file names come from the folder: shown, never obeyed as terminal control
    for (const p of r.problems) io.stdout.write(`  ${printable(p)}\n`);
  }
  return r.ok ? EXIT.OK : EXIT.PROBLEMS;
}
