/* GENERATED from schemas/site.schema.json by scripts/gen-types.mjs: do not edit. */

/**
 * Format version of the file; always 1 for now.
 */
export type FormatVersion = 1;
/**
 * Lower-case letters, digits and dashes.
 */
export type Name = string;

/**
 * The organisation, its contacts and the runbooks in recovery order.
 */
export interface Site {
  lifeboat: FormatVersion;
  kind: 'site';
  organisation: string;
  /**
   * Where printed copies of the plan are kept.
   */
  plan_copies?: string[];
  contacts?: {
    name: string;
    role?: string;
    phone?: string;
    email?: string;
    notes?: string;
  }[];
  /**
   * Markdown: who to call, in what order, after how long.
   */
  escalation?: string;
  /**
   * A rehearsal older than this is stale.
   */
  rehearse_every?: string;
  /**
   * Runbook names; tiers first, then this order within a tier.
   *
   * @minItems 1
   */
  recovery_order: [Name, ...Name[]];
}
