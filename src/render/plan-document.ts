// The DR plan as a document: template set + view model → HTML, Markdown or PDF.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Project, Loaded } from '../load/project.js';
import type { Site } from '../model/types.js';
import { sha256 } from '../plan/resolve.js';
import { createEngine, loadTemplateSet } from './engine.js';
import { planModel, type PlanModel } from './plan-model.js';
import type { ChangeSource } from './plan-model/changes.js';
import { changeSource } from './change-log.js';
import { readHistory } from '../rehearsal/status.js';
import { printPdf, type Paper, type Printer } from './pdf.js';
import type { DocFormat } from './formats.js';

export type PlanFormat = DocFormat;

export interface PlanDocOptions {
  format: PlanFormat;
  /** a folder whose files replace lifeboat's templates by name */
  templatesDir?: string;
  /** lifeboat's own templates from this folder instead of the package's (a kit's copy) */
  baseTemplatesDir?: string;
  paper?: Paper;
  now?: Date;
  version?: string;
  /** Chromium for PDF (default: found on the system) */
  chromium?: string;
  env?: NodeJS.ProcessEnv;
  /** compiled-template cache (see engine.ts); none when undefined */
  cacheDir?: string;
  /** for PDF: a Chromium already starting (startPrinter), closed when the PDF is printed */
  printer?: Promise<Printer>;
  /** the change log's source (default: git history of the runbook files, else the files) */
  changes?: ChangeSource;
}

export interface PlanDoc {
  model: PlanModel;
  output: string | Buffer;
  historySkipped: number;
}

export const historyFile = (project: Project) => path.join(project.root, '.lifeboat', 'history.jsonl');

export async function renderPlanDocument(
  project: Project,
  site: Loaded<Site>,
  inventory: string,
  opts: PlanDocOptions,
): Promise<PlanDoc> {
  // JSON is the plan's model itself (for a wiki, a CMDB or a check of one's own): no templates
  const engine =
    opts.format === 'json'
      ? undefined
      : await createEngine(
          loadTemplateSet({ dir: opts.baseTemplatesDir, overrideDir: opts.templatesDir }),
          opts.format === 'md' ? 'md' : 'html',
          { cacheDir: opts.cacheDir },
        );
  const hf = historyFile(project);
  const history = readHistory(hf);
  const extraInputs = engine?.inputs('plan') ?? [];
  if (existsSync(hf)) extraInputs.push({ path: '.lifeboat/history.jsonl', sha256: sha256(readFileSync(hf, 'utf8')) });
  const changes =
    opts.changes ??
    changeSource(
      project.root,
      [...project.runbooks.values()].map((r) => r.file.file),
    );
  const model = planModel(project, site, inventory, history.entries, {
    now: opts.now,
    version: opts.version,
    extraInputs,
    changes,
  });
  if (!engine) return { model, output: `${JSON.stringify(model, null, 2)}\n`, historySkipped: history.skipped };
  const text = engine.render('plan', model);
  if (opts.format !== 'pdf') return { model, output: text, historySkipped: history.skipped };
  const { pdf, pages } = await printPdf(text, {
    paper: opts.paper,
    executablePath: opts.chromium,
    env: opts.env,
    pageNumbers: true,
    printer: opts.printer,
    footer: `${model.organisation} · DR plan · ${model.generated} · digest ${model.digestShort}`,
  });
  for (const c of model.contents) c.page = pages.get(c.anchor);
  return { model, output: pdf, historySkipped: history.skipped };
}
