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
 * critical: the business stops; important: it slows; routine: it can wait.
 */
export type Tier = 'critical' | 'important' | 'routine';
/**
 * A duration such as 30s, 2m, 1h30m, 90d, 500ms.
 */
export type Duration = string;

/**
 * The organisation, its contacts, its services, the order of recovery and the facts a person needs without lifeboat.
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
   * The order of recovery, printed as written (never re-sorted): phases one after the other. An item is a runbook name (a phase of its own) or a phase.
   *
   * @minItems 1
   */
  recovery_order: [Name | Phase, ...(Name | Phase)[]];
  /**
   * The business services, by id: one place each for tier, RTO/RPO, owner, the runbooks that serve it and what it needs first.
   */
  services?: {
    [k: string]: Service;
  };
  /**
   * The "which runbook?" page: what a person sees, and the runbook for it.
   */
  situations?: {
    /**
     * What a person notices: "the order screen hangs".
     */
    symptom: string;
    /**
     * How to tell this situation from a similar one.
     */
    check?: string;
    runbook: Name;
    /**
     * When this runbook is the wrong one, and what to do instead.
     */
    not_when?: string;
  }[];
  /**
   * Service addresses (VIPs) and DNS names: who holds them normally and after each failover.
   */
  network?: {
    /**
     * The DNS name or the VIP's name.
     */
    name: string;
    kind: 'vip' | 'dns';
    /**
     * The address the name stands for, when it does not change.
     */
    address?: string;
    /**
     * The inventory host (or the record's value) that holds it normally.
     */
    normally: string;
    /**
     * Runbook name → who holds it after that runbook.
     */
    after?: {
      [k: string]: string;
    };
    notes?: string;
  }[];
  /**
   * Where credentials physically live (a safe, a vault entry, a sealed envelope): never the secret itself.
   */
  credentials?: {
    what: string;
    where: string;
    /**
     * Who can open it.
     */
    who?: string;
  }[];
}
export interface Phase {
  /**
   * The phase's name: "Front door", "Databases".
   */
  phase: string;
  notes?: string;
  /**
   * In order. An item is a runbook name, or one_of: alternatives of which exactly one is run.
   *
   * @minItems 1
   */
  runbooks: [
    (
      | Name
      | {
          /**
           * @minItems 2
           */
          one_of: [RunbookChoice, RunbookChoice, ...RunbookChoice[]];
        }
    ),
    ...(
      | Name
      | {
          /**
           * @minItems 2
           */
          one_of: [RunbookChoice, RunbookChoice, ...RunbookChoice[]];
        }
    )[]
  ];
}
export interface RunbookChoice {
  runbook: Name;
  /**
   * The situation this alternative is for.
   */
  when: string;
}
export interface Service {
  name: string;
  tier: Tier;
  rto?: Duration;
  rpo?: Duration;
  owner?: string;
  /**
   * The runbooks that recover or serve it.
   *
   * @minItems 1
   */
  runbooks: [Name, ...Name[]];
  /**
   * Services that must be back before this one.
   */
  depends_on?: Name[];
  /**
   * After recovery: checks a person ticks, in words.
   */
  verify?: string[];
}
