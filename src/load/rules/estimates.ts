// Step estimates: where `estimate:` may stand, and the DR lint that adds the main phase's
// estimates up against the runbook's RTO (decision 0031).
import type { Diagnostic } from '../../model/diagnostic.js';
import type { Runbook, Step } from '../../model/types.js';
import type { Project, Loaded } from '../project.js';
import { diagAt } from '../positions.js';
import { durationShort, parseDuration } from '../../util/duration.js';
import { estimateTotal, type EstimatedStep } from '../../plan/estimates.js';
import { roleHost, stepName } from './common.js';

/**
 * An include step takes no estimate: the included runbook's steps carry their own, and the sum would count them twice.
 */
export function checkEstimates(rb: Loaded<Runbook>, out: Diagnostic[]): void {
  rb.data.steps.forEach((s, i) => {
    if (s.estimate === undefined || s.include === undefined) return;
    out.push(
      diagAt(
        rb.file,
        ['steps', i, 'estimate'],
        true,
        'error',
        'estimate-on-include',
        `${stepName(s, i)}: 'estimate:' on an include step would count the included runbook's time a second time`,
        `put the estimates on the steps of runbook '${s.include}': they count here as they run here`,
      ),
    );
  });
}

type Flat = EstimatedStep & { hosts: NonNullable<EstimatedStep['hosts']> };

/**
 * Every step a run of this runbook may go through, includes flattened, with its phase, estimate and host conditions as
 * written.
 */
function flatSteps(project: Project, rb: Runbook, inherited: Flat['hosts'] = [], chain: string[] = []): Flat[] {
  if (chain.includes(rb.name)) return [];
  // conditions name roles or hosts: compare hosts, so that two runbooks' roles for one host agree
  const hostConditions = (s: Step): Flat['hosts'] =>
    (s.when === undefined ? [] : Array.isArray(s.when) ? s.when : [s.when]).flatMap((c) => {
      const target = c.unreachable ?? c.reachable;
      return target === undefined
        ? []
        : [{ host: roleHost(rb.roles?.[target]) ?? target, reachable: c.reachable !== undefined, name: target }];
    });
  return rb.steps.flatMap((s) => {
    const hosts = [...inherited, ...hostConditions(s)];
    if (s.include !== undefined) {
      const child = project.runbooks.get(s.include);
      return child?.valid ? flatSteps(project, child.data, hosts, [...chain, rb.name]) : [];
    }
    return [{ phase: s.phase, estimateMs: s.estimate !== undefined ? parseDuration(s.estimate) : undefined, hosts }];
  });
}

/**
 * dr-estimate-over-rto: the main phase's estimates (includes counted; of steps that depend on hosts being up or
 * down, the longest case) add up to more than objectives.rto.
 */
export function lintEstimates(project: Project, rb: Loaded<Runbook>, out: Diagnostic[]): void {
  const rto = rb.data.objectives?.rto;
  if (rto === undefined) return;
  const t = estimateTotal(flatSteps(project, rb.data), parseDuration(rto));
  if (!t.over) return;
  out.push(
    diagAt(
      rb.file,
      ['objectives', 'rto'],
      false,
      'warning',
      'dr-estimate-over-rto',
      `runbook '${rb.data.name}': the estimates of its main-phase steps add up to ${durationShort(t.totalMs)} ` +
        `(${t.estimated} of ${t.steps} steps estimated${t.when ? `, with ${t.when}` : ''}), more than its RTO of ${rto}`,
      'make the slow steps faster (automate a manual step, drop a wait), ' +
        "correct the estimates a rehearsal proved wrong (the run report shows each step's time), " +
        'or agree a longer RTO with the business',
    ),
  );
}
