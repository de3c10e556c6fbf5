// lifeboat plan [DIR|site.yaml] -i INVENTORY -o FILE: the printed DR plan (HTML, Markdown, PDF),
// generated from the runbooks so it is never out of date. Refuses to print invalid runbooks.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { validateProject } from '../load/validate.js';
import { addInventoryFile, findRoot, loadProject, type Project } from '../load/project.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../model/diagnostic.js';
import { EXIT } from '../cli/exit.js';
import { useColor, type CliIO } from '../cli/io.js';
import type { PlanDoc, PlanFormat } from '../render/plan-document.js';
import type { Paper, Printer } from '../render/pdf.js';
import { formatFor } from '../render/formats.js';
import { writeAtomic } from '../util/atomic-write.js';

export interface PlanCmdOptions {
  inventory?: string;
  output?: string;
  format?: PlanFormat;
  paper?: Paper;
  templates?: string;
}

export { formatFor };

export async function planCommand(target: string | undefined, opts: PlanCmdOptions, io: CliIO): Promise<number> {
  const format = formatFor(opts.output, opts.format);
  if (typeof format !== 'string') {
    io.stderr.write(`lifeboat plan: ${format.error}\n`);
    return EXIT.USAGE;
  }
  // Chromium starts while the runbooks are read and checked; its errors come out where it is used
  const printer =
    format === 'pdf' ? import('../render/pdf.js').then((m) => m.startPrinter(undefined, io.env)) : undefined;
  printer?.catch(() => undefined);
  try {
    return await makePlan(target, opts, io, format, printer);
  } finally {
    // closed after printing; here when nothing was printed
    await printer
      ?.then(
        (p) => p.browser.close(),
        () => undefined,
      )
      .catch(() => undefined);
  }
}

async function makePlan(
  target: string | undefined,
  opts: PlanCmdOptions,
  io: CliIO,
  format: PlanFormat,
  printer: Promise<Printer> | undefined,
): Promise<number> {
  const err = (msg: string) => io.stderr.write(`lifeboat plan: ${msg}\n`);
  const output = opts.output ?? `dr-plan.${format}`;
  const abs = (p: string) => path.resolve(io.cwd, p);
  const where = abs(target ?? '.');
  if (!existsSync(where)) {
    err(`${target} does not exist`);
    return EXIT.USAGE;
  }

  // the whole site: every file under the folder that holds site.yaml, each read once
  const root = findRoot(where);
  const project = loadProject([root], { root });
  const diagnostics = validateProject(project);
  // -i names an inventory of the site, or is the path of an inventory file
  let inventory = opts.inventory;
  if (
    inventory &&
    (inventory.includes('/') || /\.(ya?ml|ini)$/.test(inventory)) &&
    existsSync(abs(inventory)) &&
    statSync(abs(inventory)).isFile()
  ) {
    const name = readInventoryFile(project, abs(inventory), diagnostics, io);
    if (name === undefined) {
      err(`${inventory} is not an inventory file`);
      return EXIT.PROBLEMS;
    }
    inventory = name;
  }
  if (hasErrors(diagnostics)) {
    const sources = new Map([...project.files].map(([k, v]) => [k, v.text]));
    const color = useColor(io, io.stderr);
    for (const d of diagnostics.filter((x) => x.severity === 'error'))
      io.stderr.write(formatDiagnostic(d, { sources, color }) + '\n\n');
    err('not printing a plan from runbooks with errors (see above; `lifeboat validate` shows them too)');
    return EXIT.PROBLEMS;
  }
  if (!project.site) {
    err(`no site.yaml found in or above ${target ?? '.'}: the plan is made for a site`);
    return EXIT.USAGE;
  }
  const names = [...project.inventories.keys()].sort();
  if (!inventory) {
    if (names.length !== 1) {
      err(`which inventory? give -i NAME (${names.length ? `one of: ${names.join(', ')}` : 'none found'})`);
      return EXIT.USAGE;
    }
    inventory = names[0];
  }
  if (!project.inventories.has(inventory)) {
    err(`no inventory named '${inventory}' (found: ${names.join(', ') || 'none'})`);
    return EXIT.USAGE;
  }
  const doc = await renderPlan(project, project.site, inventory, opts, io, format, printer);
  if (typeof doc === 'number') return doc;
  await warnAbout(project, doc, diagnostics, err);
  return writePlan(doc, output, inventory, io, err);
}

/**
 * `-i FILE`: the inventory file read into the project (a lifeboat inventory, or an Ansible one: decision 0027), its
 * diagnostics counted when the site did not hold it already; its name, or undefined (its diagnostics printed) when it
 * is not an inventory.
 */
function readInventoryFile(project: Project, file: string, diagnostics: Diagnostic[], io: CliIO): string | undefined {
  const known = [...project.inventories.values()].find((l) => path.resolve(l.file.file) === file);
  const loaded = known ?? addInventoryFile(project, file);
  const data = loaded?.data as { name?: unknown } | undefined;
  const sources = new Set([
    file,
    ...[...(project.ansibleSources ?? [])]
      .filter(([k]) => path.resolve(k) === file)
      .flatMap(([, v]) => v)
      .map((f) => path.resolve(f)),
  ]);
  if (!loaded || loaded.kind !== 'inventory' || typeof data?.name !== 'string') {
    for (const d of project.diagnostics.filter((x) => sources.has(path.resolve(x.file))))
      io.stderr.write(formatDiagnostic(d) + '\n');
    return undefined;
  }
  if (!known) diagnostics.push(...project.diagnostics.filter((d) => sources.has(path.resolve(d.file))));
  return data.name;
}

/** The plan rendered; a problem with the runbooks, the templates or Chromium is said, and is the exit code. */
async function renderPlan(
  project: Project,
  site: NonNullable<Project['site']>,
  inventory: string,
  opts: PlanCmdOptions,
  io: CliIO,
  format: PlanFormat,
  printer: Promise<Printer> | undefined,
): Promise<PlanDoc | number> {
  const err = (msg: string) => io.stderr.write(`lifeboat plan: ${msg}\n`);
  const { renderPlanDocument } = await import('../render/plan-document.js');
  const { PlanModelError } = await import('../render/plan-model.js');
  const { TemplateSetError, defaultCacheDir } = await import('../render/engine.js');
  const { ChromiumMissingError } = await import('../render/pdf.js');
  try {
    return await renderPlanDocument(project, site, inventory, {
      format,
      paper: opts.paper,
      env: io.env,
      cacheDir: defaultCacheDir(io.env),
      printer,
      templatesDir: opts.templates ? path.resolve(io.cwd, opts.templates) : undefined,
      now:
        io.env.SOURCE_DATE_EPOCH && /^\d+$/.test(io.env.SOURCE_DATE_EPOCH)
          ? new Date(Number(io.env.SOURCE_DATE_EPOCH) * 1000)
          : undefined,
    });
  } catch (e) {
    if (e instanceof PlanModelError) {
      err(e.message);
      for (const p of e.problems) io.stderr.write(`  - ${p}\n`);
      return EXIT.PROBLEMS;
    }
    if (e instanceof TemplateSetError || e instanceof ChromiumMissingError) {
      err(e.message);
      return EXIT.PROBLEMS;
    }
    // the kit's executable carries no playwright-core (decision 0023): it says what to do instead
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND' && format === 'pdf') {
      err((e as Error).message);
      return EXIT.PROBLEMS;
    }
    if (e instanceof Error && /Parse error|could not be found|Missing helper/.test(e.message)) {
      err(`template problem: ${e.message}`);
      return EXIT.PROBLEMS;
    }
    throw e;
  }
}

/** What the plan leaves out or may be behind on: history lines skipped, warnings in the runbooks, a stale go-bag. */
async function warnAbout(project: Project, doc: PlanDoc, diagnostics: Diagnostic[], err: (msg: string) => void) {
  if (doc.historySkipped)
    err(`warning: ${doc.historySkipped} line(s) of .lifeboat/history.jsonl are not rehearsal records and were ignored`);
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  if (warnings) err(`note: ${warnings} warning(s) in the runbooks (lifeboat validate shows them)`);
  // the go-bag holds a printed plan too: say when it is older than these runbooks
  const { kitFreshness, describeFreshness } = await import('../kit/freshness.js');
  const fresh = kitFreshness(project, (await import('../rehearsal/history.js')).readKitRecords(project.root));
  if (fresh.stale) err(`warning: ${describeFreshness(fresh)}`);
}

/** The plan to stdout (`-o -`) or to its file, written whole or not at all. */
function writePlan(doc: PlanDoc, output: string, inventory: string, io: CliIO, err: (msg: string) => void): number {
  if (output === '-') {
    io.stdout.write(doc.output);
    return EXIT.OK;
  }
  try {
    writeAtomic(path.resolve(io.cwd, output), doc.output, 0o644);
  } catch (e) {
    err(`cannot write ${output}: ${(e as Error).message}`);
    return EXIT.PROBLEMS;
  }
  const stale = doc.model.runbooks.filter((r) => !r.status.current).length;
  io.stdout.write(
    `wrote ${output}: ${doc.model.runbooks.length} runbook(s), inventory ${inventory}, digest ${doc.model.digestShort}` +
      (stale ? `; ${stale} not rehearsed recently` : '') +
      '\n',
  );
  return EXIT.OK;
}
