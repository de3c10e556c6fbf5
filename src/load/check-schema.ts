// Validates parsed YAML against schemas/*.json with ajv (all errors, not the first) and turns
// each ajv error into a Diagnostic at the offending node, in words a sysadmin understands.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../model/diagnostic.js';
import type { YamlFile, YamlPath } from './read-yaml.js';
import { didYouMean } from '../util/suggest.js';
import { packageRoot } from '../util/package-root.js';

export type Kind = 'runbook' | 'inventory' | 'site';
export const KINDS: Kind[] = ['runbook', 'inventory', 'site'];

/** schemas/ in the package */
export const SCHEMA_DIR = path.join(packageRoot(), 'schemas');

/** the bundled CLI (scripts/bundle.mjs) carries the precompiled validators in itself */
const BUNDLED_VALIDATORS = Symbol.for('lifeboat.schemaValidators');

export function loadSchema(kind: Kind | 'common'): Record<string, any> {
  return JSON.parse(readFileSync(path.join(SCHEMA_DIR, `${kind}.schema.json`), 'utf8'));
}

let validators: Map<Kind, ValidateFunction> | undefined;

/** sha256 over the schema files, as scripts/gen-validators.mjs stamps its output */
function schemaDigest(): string {
  const h = createHash('sha256');
  for (const k of ['common', ...KINDS] as const)
    h.update(`${k}\n${readFileSync(path.join(SCHEMA_DIR, `${k}.schema.json`), 'utf8')}\n`);
  return h.digest('hex');
}

function getValidator(kind: Kind): ValidateFunction {
  if (!validators) {
    const require = createRequire(import.meta.url);
    // validators precompiled by `npm run build` skip ajv's compile (~100 ms per cold start);
    // used only while they match the schemas on disk, else compiled below as before
    let pre: (Record<Kind, ValidateFunction> & { digest?: string }) | undefined;
    pre = (globalThis as Record<symbol, typeof pre>)[BUNDLED_VALIDATORS];
    if (!pre)
      try {
        pre = require('./schema-validators.cjs');
      } catch {
        pre = undefined;
      }
    if (pre && pre.digest === schemaDigest()) return (validators = new Map(KINDS.map((k) => [k, pre[k]]))).get(kind)!;
    // ajv's 2020-12 build; loaded lazily so commands that validate nothing pay nothing
    const Ajv2020 = require('ajv/dist/2020').default;
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    ajv.addSchema(loadSchema('common'));
    validators = new Map(KINDS.map((k) => [k, ajv.compile(loadSchema(k))]));
  }
  return validators.get(kind)!;
}

function toPath(instancePath: string): YamlPath {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function getAt(data: unknown, p: YamlPath): unknown {
  let cur: any = data;
  for (const seg of p) cur = cur?.[seg];
  return cur;
}

/** "step 'promote'", "host 'db1'", "objectives", … — names the thing a sysadmin sees */
export function describePath(data: unknown, p: YamlPath): string {
  const parts: string[] = [];
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    const parent = p[i - 1];
    if (parent === 'steps' && typeof seg === 'number') {
      const id = (getAt(data, p.slice(0, i + 1)) as any)?.id;
      parts.pop();
      parts.push(typeof id === 'string' ? `step '${id}'` : `step ${seg + 1}`);
    } else if (parent === 'hosts' || parent === 'roles' || parent === 'secrets' || parent === 'vars') {
      parts.pop();
      parts.push(
        `${parent === 'hosts' ? 'host' : parent === 'roles' ? 'role' : parent === 'secrets' ? 'secret' : 'var'} '${seg}'`,
      );
    } else if (typeof seg === 'number') {
      parts.push(`item ${seg + 1}`);
    } else {
      parts.push(String(seg));
    }
  }
  return parts.join(' › ');
}

// a value quoted back in a message: control characters written as escapes, so a hostile value cannot move the cursor,
// clear the screen or fake lines
const shown = (v: unknown): string =>
  String(v).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const jsType = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : typeof v === 'string'
          ? 'a string'
          : typeof v === 'number'
            ? Number.isInteger(v)
              ? 'an integer'
              : 'a number'
            : `a ${typeof v}`;
const typeWords: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

const PATTERN_WORDS: Record<string, [string, string]> = {
  duration: ['is not a duration', 'write it like 30s, 2m, 1h30m or 90d'],
  id: ['is not a valid id', 'use lower-case letters, digits and dashes, e.g. promote-standby'],
  name: ['is not a valid name', 'use lower-case letters, digits and dashes, e.g. postgres-promote'],
  semver: ['is not a semantic version', 'write it as MAJOR.MINOR.PATCH, e.g. 1.0.0'],
  user: [
    'is not a valid user name',
    'a login name: lower-case letters, digits, _ . and -, starting with a letter or _ (no spaces or shell characters)',
  ],
  varName: ['is not a valid variable name', 'use letters, digits and underscores, starting with a letter'],
};

function patternName(e: ErrorObject): string | undefined {
  const m =
    /\$defs\/(\w+)\/pattern$/.exec(e.schemaPath) ??
    /common\.schema\.json#\/\$defs\/(\w+)/.exec(String((e as any).parentSchema?.$id ?? ''));
  if (m) return m[1];
  const pat = (e.params as any).pattern as string;
  const common = loadSchemaCached();
  for (const [k, v] of Object.entries<any>(common.$defs)) if (v.pattern === pat) return k;
  return undefined;
}

let commonCache: Record<string, any> | undefined;
const loadSchemaCached = () => (commonCache ??= loadSchema('common'));

function allowedProps(e: ErrorObject): string[] {
  const ps = (e as any).parentSchema;
  return ps?.properties ? Object.keys(ps.properties) : [];
}

interface Mapped {
  path: YamlPath;
  key: boolean;
  code: string;
  message: string;
  hint?: string;
}

function mapError(e: ErrorObject, data: unknown): Mapped {
  const p = toPath(e.instancePath);
  const where = describePath(data, p) || 'file';
  const val = getAt(data, p);
  // a bad key (`hosts: { "db;1": … }`): ajv reports the key's own pattern error at the parent, then propertyNames;
  // point both at the key
  const badKey =
    (e as ErrorObject & { propertyName?: string }).propertyName ??
    (e.keyword === 'propertyNames' ? String((e.params as any).propertyName) : undefined);
  if (badKey !== undefined)
    return {
      path: [...p, badKey],
      key: true,
      code: 'bad-name',
      message: `${where}: invalid name '${shown(badKey)}'`,
      hint: PATTERN_WORDS[patternName(e) ?? '']?.[1],
    };
  if (Object.hasOwn(BY_KEYWORD, e.keyword)) return BY_KEYWORD[e.keyword](e, { p, where, val });
  return { path: p, key: false, code: 'schema', message: `${where}: ${e.message ?? 'invalid'}` };
}

/** the node an error is at: its path, how a message names it, its value */
interface At {
  p: YamlPath;
  where: string;
  val: unknown;
}

/** what each schema keyword's error says, in words */
const BY_KEYWORD: Record<string, (e: ErrorObject, at: At) => Mapped> = {
  additionalProperties: (e, { p, where }) => {
    const field = (e.params as any).additionalProperty as string;
    const allowed = allowedProps(e);
    return {
      path: [...p, field],
      key: true,
      code: 'unknown-field',
      message: `${where}: unknown field '${field}'${didYouMean(field, allowed)}`,
      hint: allowed.length ? `allowed here: ${allowed.join(', ')}` : undefined,
    };
  },
  required: (e, { p, where }) => {
    const field = (e.params as any).missingProperty as string;
    return {
      path: p,
      key: p.length > 0,
      code: 'missing-field',
      message: `${where}: missing required field '${field}'`,
    };
  },
  type: (e, { p, where, val }) => {
    const want = String((e.params as any).type)
      .split(',')
      .map((t) => typeWords[t] ?? t)
      .join(' or ');
    return { path: p, key: false, code: 'wrong-type', message: `${where}: expected ${want}, got ${jsType(val)}` };
  },
  enum: (e, { p, where, val }) => {
    const allowed = ((e.params as any).allowedValues as unknown[]).map(String);
    return {
      path: p,
      key: false,
      code: 'bad-value',
      message: `${where}: '${shown(val)}' is not one of ${allowed.join(', ')}${didYouMean(String(val), allowed)}`,
    };
  },
  const: (e, { p, where, val }) => {
    const want = (e.params as any).allowedValue;
    return {
      path: p,
      key: false,
      code: 'bad-value',
      message: `${where}: must be ${JSON.stringify(want)}, got ${JSON.stringify(val)}`,
    };
  },
  pattern: patternError,
  propertyNames: (e, { p, where }) => ({
    path: p,
    key: false,
    code: 'bad-name',
    message: `${where}: invalid name '${(e.params as any).propertyName}'`,
  }),
  minItems: (e, { p, where }) => ({
    path: p,
    key: false,
    code: 'bad-value',
    message: `${where}: needs at least ${(e.params as any).limit} item${(e.params as any).limit === 1 ? '' : 's'}`,
  }),
  minLength: (_e, { p, where }) => ({ path: p, key: false, code: 'bad-value', message: `${where}: must not be empty` }),
  minProperties: propertyCount,
  maxProperties: propertyCount,
  minimum: bound,
  maximum: bound,
};

/** a value that does not match its pattern: a host address and a host key in their own words */
function patternError(e: ErrorObject, { p, where, val }: At): Mapped {
  const pn = patternName(e);
  const words = pn ? PATTERN_WORDS[pn] : undefined;
  if (p[p.length - 2] === 'hosts' || p[p.length - 1] === 'address') {
    return {
      path: p,
      key: false,
      code: 'bad-value',
      message: `${where}: '${shown(val)}' is not a valid host name or address`,
      hint: 'use an IPv4/IPv6 address or a DNS name (letters, digits, dashes, dots)',
    };
  }
  if (p[p.length - 1] === 'host_key') {
    return {
      path: p,
      key: false,
      code: 'bad-value',
      message: `${where}: '${shown(val)}' is not a host key fingerprint`,
      hint: 'copy it as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server: SHA256: and 43 characters',
    };
  }
  return {
    path: p,
    key: false,
    code: 'bad-value',
    message: `${where}: '${shown(val)}' ${words?.[0] ?? `does not match ${(e.params as any).pattern}`}`,
    hint: words?.[1],
  };
}

function propertyCount(e: ErrorObject, { p, where }: At): Mapped {
  return {
    path: p,
    key: false,
    code: 'bad-value',
    message: `${where}: ${e.keyword === 'minProperties' ? 'must not be empty' : `takes exactly one of ${allowedProps(e).join(', ')}`}`,
  };
}

function bound(e: ErrorObject, { p, where, val }: At): Mapped {
  return {
    path: p,
    key: false,
    code: 'bad-value',
    message: `${where}: ${String(val)} must be ${e.keyword === 'minimum' ? '≥' : '≤'} ${(e.params as any).limit}`,
  };
}

/** Collapse oneOf noise: keep the errors of the branch that fits the value's shape best. */
function pruneOneOf(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  let out = errors;
  for (const o of oneOfs) {
    const prefix = o.schemaPath + '/';
    const inside = out.filter((e) => e.schemaPath.startsWith(prefix));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const b = e.schemaPath.slice(prefix.length).split('/')[0];
      if (!branches.has(b)) branches.set(b, []);
      branches.get(b)!.push(e);
    }
    // a branch rejected for its type at the oneOf's own node is the wrong shape, not the user's mistake
    const fitting = [...branches.values()].filter(
      (errs) => !errs.some((e) => e.instancePath === o.instancePath && (e.keyword === 'type' || e.keyword === 'const')),
    );
    fitting.sort((a, b) => a.length - b.length);
    const keep = new Set<ErrorObject>(fitting[0] ?? []);
    out = out.filter((e) => !e.schemaPath.startsWith(prefix) || keep.has(e));
    // errors of a $ref'd branch carry the referenced schema's path: a deeper error still explains the oneOf
    const deeper = out.some((e) => e !== o && e.instancePath.startsWith(o.instancePath + '/'));
    if (keep.size || deeper) out = out.filter((e) => e !== o);
  }
  return out;
}

/**
 * `{ role: IT (files, VMs), phone: 1 }`: in a flow mapping a comma ends the value, so the rest
 * turns into keys with no value. Say so instead of "unknown field 'VMs'".
 */
function explainFlowCommaIn(f: YamlFile) {
  return (m: Mapped) => {
    const parent = f.doc.getIn(m.path.slice(0, -1), true) as { flow?: boolean } | undefined;
    const value = f.doc.getIn(m.path);
    if (!parent?.flow || (value !== null && value !== undefined)) return;
    m.code = 'unknown-field';
    m.message =
      `${m.message.replace(/ \u2014 did you mean .*$/, '')}: a comma inside { … } ends a value, ` +
      `so '${String(m.path[m.path.length - 1])}' became a field of its own`;
    m.hint = 'put the value that holds the comma in quotes, e.g. role: "IT generalist (files, VMs, network)"';
  };
}

export function checkSchema(f: YamlFile, kind: Kind): Diagnostic[] {
  const validate = getValidator(kind);
  if (validate(f.data)) return [];
  const errors = pruneOneOf(validate.errors ?? []);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  const explainFlowComma = explainFlowCommaIn(f);
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      const p = toPath(e.instancePath);
      const m = {
        path: p,
        key: false,
        code: 'wrong-type',
        message: `${describePath(f.data, p) || 'file'}: ${jsType(getAt(f.data, p))} is not allowed here`,
      };
      push(m);
      continue;
    }
    push(mapError(e, f.data));
  }
  function push(m: Mapped) {
    if (m.code === 'unknown-field') explainFlowComma(m);
    const s = f.spanOf(m.path, m.key);
    const k = `${s.line}:${s.col}:${m.message}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({
      file: f.file,
      line: s.line,
      col: s.col,
      endLine: s.endLine,
      endCol: s.endCol,
      severity: 'error',
      code: m.code,
      message: m.message,
      hint: m.hint,
    });
  }
  return out;
}

/** Which kind a file declares; a diagnostic when it declares none we know. */
export function detectKind(f: YamlFile): Kind | Diagnostic {
  const d = f.data as any;
  const s = f.spanOf(['kind'], true);
  if (d === null || typeof d !== 'object' || Array.isArray(d)) {
    return {
      file: f.file,
      line: 1,
      col: 1,
      severity: 'error',
      code: 'not-a-mapping',
      message: `expected a mapping with 'lifeboat: 1' and 'kind:', got ${jsType(d)}`,
      hint: 'start the file with `lifeboat: 1` and `kind: runbook` (or inventory, site)',
    };
  }
  if (!('kind' in d))
    return {
      file: f.file,
      line: 1,
      col: 1,
      severity: 'error',
      code: 'missing-field',
      message: "missing 'kind:' (runbook, inventory or site)",
      hint: 'add `kind: runbook` near the top',
    };
  if (!KINDS.includes(d.kind)) {
    const vs = f.spanOf(['kind']);
    return {
      file: f.file,
      line: vs.line,
      col: vs.col,
      severity: 'error',
      code: 'bad-value',
      message: `kind: '${String(d.kind)}' is not one of ${KINDS.join(', ')}${didYouMean(String(d.kind), KINDS)}`,
    };
  }
  void s;
  return d.kind as Kind;
}

/**
 * The parts of a file the schema accepts, for the checks that follow it: every step with a
 * schema error becomes a neutral manual step keeping its id and the value it records (so later
 * steps that use them are not reported too), and a top-level field with an error is dropped.
 * Undefined when that is not enough (a required field is wrong or missing): the semantic checks
 * then skip the file, as before. Validation then reports every independent mistake in one pass.
 */
export function salvage(data: unknown, kind: Kind): unknown {
  if (kind !== 'runbook' || data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const validate = getValidator(kind);
  if (validate(data)) return data;
  const required = new Set<string>((loadSchema(kind).required as string[] | undefined) ?? []);
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  const steps = Array.isArray(copy.steps) ? [...copy.steps] : undefined;
  const badSteps = new Set<number>();
  for (const e of validate.errors ?? []) {
    const p = toPath(e.instancePath);
    if (p[0] === 'steps' && typeof p[1] === 'number' && steps) {
      badSteps.add(p[1]);
      continue;
    }
    const key = p.length
      ? String(p[0])
      : e.keyword === 'additionalProperties'
        ? String((e.params as { additionalProperty?: string }).additionalProperty)
        : undefined;
    if (key === undefined || required.has(key)) return undefined;
    delete copy[key];
  }
  if (steps) {
    for (const i of badSteps) {
      const s = (steps[i] ?? {}) as Record<string, unknown>;
      const id = typeof s.id === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(s.id) ? s.id : `step-${i + 1}`;
      const keeps = typeof s.record === 'string' ? s.record : typeof s.capture === 'string' ? s.capture : undefined;
      steps[i] = {
        id,
        manual: 'checked once its schema errors are fixed',
        ...(keeps && /^[a-z_][a-z0-9_]*$/i.test(keeps) ? { record: keeps } : {}),
        ...(s.phase === 'preflight' ? { phase: 'preflight' } : {}),
      };
    }
    copy.steps = steps;
  }
  return validate(copy) ? copy : undefined;
}
