// The YAML's types, re-exported from the code generated from schemas/ (the one source).
export type {
  Runbook,
  Step,
  Role,
  Secret,
  Expect,
  Condition,
  OutputMatch,
  Tier,
  Vars,
} from '../schema/runbook.generated.js';
export type { Inventory } from '../schema/inventory.generated.js';
export type { Site } from '../schema/site.generated.js';
