// The kit's printed plan: rendered from the kit's own copy of the project and templates, so
// its digest can be made again from the kit alone (`lifeboat kit verify`). One function makes
// the plan at build time and the digest at verify time.
import path from 'node:path';
import type { Project } from '../load/project.js';
import type { PlanModel } from '../render/plan-model.js';

export const PLAN_DIR = 'plan';
/** `DIGEST  INVENTORY` per printed plan */
export const planDigestsFile = `${PLAN_DIR}/DIGESTS`;

export async function renderKitPlan(
  kitDir: string,
  project: Project,
  inventory: string,
  format: 'html' | 'pdf',
  opts: { now?: Date; env?: NodeJS.ProcessEnv } = {},
): Promise<{ digest: string; output: string | Buffer; model: PlanModel }> {
  if (!project.site) throw new Error(`no site.yaml in ${project.root}`);
  const { renderPlanDocument } = await import('../render/plan-document.js');
  const doc = await renderPlanDocument(project, project.site, inventory, {
    format,
    baseTemplatesDir: path.join(kitDir, 'templates'),
    now: opts.now,
    env: opts.env,
  });
  return { digest: doc.model.digest, output: doc.output, model: doc.model };
}

export function parsePlanDigests(text: string): { inventory: string; digest: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => /^([0-9a-f]{64}) {2}([a-z0-9][a-z0-9-]*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ inventory: m[2], digest: m[1] }));
}
