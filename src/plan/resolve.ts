// Pure: a runbook + inventory (+ the project's other runbooks, for includes) → ResolvedPlan.
// Assumes the semantic checks passed; anything that still does not resolve throws ResolveError.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { userInfo } from 'node:os';
import { LOCAL_HOST, type ResolvedHost, type SshHost } from '../ports.js';
import type { Runbook, Step, Inventory, OutputMatch, Expect, Condition } from '../model/types.js';
import type {
  Expectation,
  OutputTest,
  ResolvedCondition,
  ResolvedPlan,
  ResolvedStep,
  SecretSource,
} from '../model/plan.js';
import type { Project, Loaded } from '../load/project.js';
import { parseTemplate, render } from './template.js';
import { factsOf, type HostFacts } from './context.js';
import { parseDuration } from '../util/duration.js';
import { expandPath } from '../util/expand.js';

export class ResolveError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'ResolveError';
  }
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Hosts without an address: where OpenSSH would connect (`ssh -G`, or the built-in resolver).
   * The inventory's own user and port are given as ssh's -l and -p would be.
   */
  sshConfigLookup?: (query: { name: string; user?: string; port?: number }) => Partial<SshHost>;
  /** the inventory file's folder: its relative paths (ssh_config, known_hosts, identity_file) start there */
  inventoryDir?: string;
  /** max include depth */
  maxDepth?: number;
  /**
   * per host, per field: where an Ansible inventory set it (file:line:col, var, group) — shown instead of `inventory`
   */
  fieldOrigins?: Record<string, Record<string, string>>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// the inventory schema's patterns for an address and a user name
const ADDRESS =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$/;

/** An inventory path field as a path: ~ and ${VAR} expanded, relative to the inventory's folder. */
export function inventoryPath(p: string, env: NodeJS.ProcessEnv, dir?: string): string {
  const e = expandPath(p, env);
  return dir ? path.resolve(dir, e) : e;
}

/** The ssh_config file an inventory names (undefined: ssh's own defaults). */
export function inventorySshConfig(
  inv: Inventory,
  env: NodeJS.ProcessEnv = process.env,
  dir?: string,
): string | undefined {
  return inv.ssh_config ? inventoryPath(inv.ssh_config, env, dir) : undefined;
}

/** Hosts of this inventory without an address, as they are asked of ssh (-l, -p from the inventory). */
export function sshQuery(inv: Inventory, name: string): { name: string; user?: string; port?: number } {
  const h = inv.hosts[name];
  const d = inv.defaults ?? {};
  const user = h?.user ?? d.user;
  const port = h?.port ?? d.port;
  return { name, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

function checkFromConfig(name: string, c: Partial<SshHost>): void {
  // ssh_config is not checked by the schema: hold what it gives to the same rules as an inventory
  if (c.address !== undefined && !ADDRESS.test(c.address))
    throw new ResolveError(
      `host '${name}': ssh_config gives it the HostName '${JSON.stringify(c.address).slice(1, -1)}', which is not a host name or address`,
    );
  if (c.user !== undefined && !USER.test(c.user))
    throw new ResolveError(
      `host '${name}': ssh_config gives it the User '${JSON.stringify(c.user).slice(1, -1)}', which is not a user name`,
    );
  if (c.jump) checkFromConfig(c.jump.name, c.jump);
}

export function resolveHost(inv: Inventory, name: string, opts: ResolveOptions = {}, seen: string[] = []): SshHost {
  const env = opts.env ?? process.env;
  const h = inv.hosts[name];
  if (!h) throw new ResolveError(`host '${name}' is not in inventory '${inv.name}'`);
  if (seen.includes(name)) throw new ResolveError(`jump hosts form a loop: ${[...seen, name].join(' → ')}`);
  const d = inv.defaults ?? {};
  const dir = opts.inventoryDir;
  const fromConfig: Partial<SshHost> =
    !h.address && opts.sshConfigLookup ? lookUpSshConfig(inv, name, opts.sshConfigLookup) : {};
  const via = fromConfig.origin;
  const origins: Record<string, string> = {};
  const pick = originPicker(origins, opts.fieldOrigins?.[name] ?? {});
  const knownHosts = knownHostsFiles(inv, fromConfig, pick, env, dir);
  const idFile = h.identity_file ?? d.identity_file;
  const jumpName = h.jump ?? (name !== d.jump ? d.jump : undefined);
  const jump = jumpName ? resolveHost(inv, jumpName, opts, [...seen, name]) : fromConfig.jump;
  if (jumpName) origins.jump = h.jump ? 'inventory' : 'inventory defaults';
  else if (jump) origins.jump = via!;
  const connectTimeoutMs = pick(
    'connectTimeoutMs',
    [inv.connect_timeout ? parseDuration(inv.connect_timeout) : undefined, 'inventory'],
    [fromConfig.connectTimeoutMs, via],
    [10_000, 'default'],
  )!;
  const host: SshHost = {
    transport: 'ssh',
    name,
    address: pick('address', [h.address, 'inventory'], [fromConfig.address, via], [name, 'default'])!,
    port: pick('port', [h.port, 'inventory'], [d.port, 'inventory defaults'], [fromConfig.port, via], [22, 'default'])!,
    user: pick(
      'user',
      [h.user, 'inventory'],
      [d.user, 'inventory defaults'],
      [fromConfig.user, via],
      [userInfo().username, 'default'],
    )!,
    jump,
    hostKey: h.host_key,
    identityFiles: pick(
      'identityFiles',
      [h.identity_file ? [inventoryPath(h.identity_file, env, dir)] : undefined, 'inventory'],
      [idFile ? [inventoryPath(idFile, env, dir)] : undefined, 'inventory defaults'],
      [fromConfig.identityFiles, via],
      [[], 'default'],
    )!,
    knownHosts,
    connectTimeoutMs,
    mayBeDown: false,
    algorithms: h.algorithms as Record<string, string[]> | undefined,
  };
  takeConfigOnly(host, fromConfig, !!jumpName, origins);
  return host;
}

/** A host without an address, as ssh_config resolves it (checked as the inventory would be). */
function lookUpSshConfig(
  inv: Inventory,
  name: string,
  lookup: NonNullable<ResolveOptions['sshConfigLookup']>,
): Partial<SshHost> {
  let fromConfig: Partial<SshHost>;
  try {
    fromConfig = lookup(sshQuery(inv, name));
  } catch (e) {
    throw new ResolveError(`host '${name}' has no address and ssh_config does not resolve it: ${(e as Error).message}`);
  }
  checkFromConfig(name, fromConfig);
  return fromConfig;
}

/** the first value given with an origin; notes the origin (for `inventory`, an Ansible inventory's file:line) */
type OriginPick = <T>(field: string, ...c: Array<[T | undefined, string | undefined]>) => T | undefined;

function originPicker(origins: Record<string, string>, written: Record<string, string>): OriginPick {
  return (field, ...c) => {
    for (const [v, o] of c)
      if (v !== undefined && o !== undefined) {
        origins[field] = o === 'inventory' ? (written[field] ?? o) : o;
        return v;
      }
    return undefined;
  };
}

/** known_hosts files: the inventory's, else ssh_config's, else ~/.ssh/known_hosts */
function knownHostsFiles(
  inv: Inventory,
  fromConfig: Partial<SshHost>,
  pick: OriginPick,
  env: NodeJS.ProcessEnv,
  dir: string | undefined,
): string[] {
  if (inv.known_hosts !== undefined)
    return pick('knownHosts', [
      (Array.isArray(inv.known_hosts) ? inv.known_hosts : [inv.known_hosts]).map((p) => inventoryPath(p, env, dir)),
      'inventory',
    ])!;
  return pick(
    'knownHosts',
    [fromConfig.knownHosts, fromConfig.origin],
    [['~/.ssh/known_hosts'].map((p) => expandPath(p, env)), 'default'],
  )!;
}

/** what only ssh_config says: a global known_hosts, a HostKeyAlias, a ProxyCommand (an inventory jump replaces it) */
function takeConfigOnly(
  host: SshHost,
  fromConfig: Partial<SshHost>,
  inventoryJump: boolean,
  origins: Record<string, string>,
): void {
  const via = fromConfig.origin;
  if (fromConfig.globalKnownHosts) host.globalKnownHosts = fromConfig.globalKnownHosts;
  if (fromConfig.hostKeyAlias) {
    host.hostKeyAlias = fromConfig.hostKeyAlias;
    origins.hostKeyAlias = via!;
  }
  // an inventory jump is ssh's -J: it takes the place of the config's ProxyCommand
  if (fromConfig.proxyCommand && !inventoryJump) {
    host.proxyCommand = fromConfig.proxyCommand;
    origins.proxyCommand = via!;
  }
  if (via) host.origin = via;
  host.origins = origins;
}

const withTemplate = (value: string) => (value.includes('{{') ? { value, template: parseTemplate(value) } : { value });

function outputTest(m: OutputMatch | undefined): OutputTest | undefined {
  if (m === undefined) return undefined;
  if (typeof m !== 'object') return { kind: 'equals', ...withTemplate(String(m)) };
  if (m.match !== undefined) return { kind: 'match', regex: m.match };
  return { kind: 'contains', ...withTemplate(m.contains ?? '') };
}

function expectation(e: Expect | undefined): Expectation {
  const exit = e?.exit === undefined ? [0] : Array.isArray(e.exit) ? e.exit : [e.exit];
  return { exit, stdout: outputTest(e?.stdout), stderr: outputTest(e?.stderr) };
}

interface Scope {
  vars: Record<string, string | number | boolean>;
  roles: Record<string, string>;
  mayBeDown: Set<string>;
}

/** What resolving one plan builds up as it walks the runbook and its includes. */
interface Walk {
  project: Project;
  inv: Loaded<Inventory>;
  inventory: Inventory;
  opts: ResolveOptions;
  files: ResolvedPlan['files'];
  hosts: Record<string, ResolvedHost>;
  steps: ResolvedStep[];
  maxDepth: number;
}

function useHost(w: Walk, name: string, mayBeDown: boolean): void {
  const { hosts, inv } = w;
  if (name === 'local') {
    hosts.local = LOCAL_HOST;
    return;
  }
  // an Ansible host with ansible_connection=local is the operator's machine under its own name
  if (inv.ansible?.local.has(name)) {
    hosts[name] ??= { ...LOCAL_HOST, name, origins: { local: inv.ansible.origins[name]?.local ?? 'inventory' } };
    return;
  }
  const h =
    hosts[name] ??
    resolveHost(w.inventory, name, {
      inventoryDir: path.dirname(inv.file.file),
      ...w.opts,
      ...(inv.ansible ? { fieldOrigins: inv.ansible.origins } : {}),
    });
  if (mayBeDown) h.mayBeDown = true;
  hosts[name] = h;
}

function scopeOf(inventory: Inventory, r: Runbook, withVars: Record<string, string | number | boolean> = {}): Scope {
  const roles: Record<string, string> = {};
  const mayBeDown = new Set<string>();
  for (const [role, spec] of Object.entries(r.roles ?? {})) {
    const host = typeof spec === 'string' ? spec : spec.host;
    roles[role] = host;
    if (typeof spec === 'object' && spec.may_be_down) mayBeDown.add(host);
  }
  return { vars: { ...(r.vars ?? {}), ...(inventory.vars ?? {}), ...withVars }, roles, mayBeDown };
}

function hostOf(inventory: Inventory, scope: Scope, target: string, where: Loaded<Runbook>): string {
  if (target === 'local') return 'local';
  if (target in scope.roles) return scope.roles[target];
  if (target in inventory.hosts) return target;
  throw new ResolveError(
    `'${target}' is neither a role of runbook '${where.data.name}', a host of inventory '${inventory.name}', nor local`,
    where.file.file,
  );
}

/** The steps of one runbook (and, depth first, of the runbooks it includes) into `w.steps`. */
function walk(
  w: Walk,
  loaded: Loaded<Runbook>,
  scope: Scope,
  prefix: string,
  inherited: ResolvedCondition[],
  chain: string[],
): void {
  loaded.data.steps.forEach((s: Step, i: number) => {
    const pos = loaded.file.spanOf(['steps', i]);
    const id = prefix + s.id;
    const when = [...inherited, ...conditions(w, s.when, scope, loaded)];
    if (s.include) {
      walkInclude(w, s, id, loaded, pos, scope, when, chain);
      return;
    }
    const action = s.run ? 'run' : s.manual ? 'manual' : 'gate';
    const st = baseStep(s, id, action, loaded, pos, scope, when);
    if (action === 'run') {
      const targets = s.on === undefined ? [] : Array.isArray(s.on) ? s.on : [s.on];
      if (!targets.length)
        throw new ResolveError(`step '${s.id}' has a command but no 'on:'`, loaded.file.file, pos.line, pos.col);
      st.on = targets;
      st.hosts = [...new Set(targets.map((t) => hostOf(w.inventory, scope, t, loaded)))];
      for (const h of st.hosts) useHost(w, h, scope.mayBeDown.has(h));
    } else if (s.on !== undefined) {
      st.on = Array.isArray(s.on) ? s.on : [s.on];
    }
    w.steps.push(st);
  });
}

function walkInclude(
  w: Walk,
  s: Step,
  id: string,
  loaded: Loaded<Runbook>,
  pos: { line: number; col: number },
  scope: Scope,
  when: ResolvedCondition[],
  chain: string[],
): void {
  const include = s.include!;
  if (chain.includes(include) || chain.length >= w.maxDepth)
    throw new ResolveError(`include cycle: ${[...chain, include].join(' → ')}`, loaded.file.file, pos.line, pos.col);
  const child = w.project.runbooks.get(include);
  if (!child)
    throw new ResolveError(
      `step '${s.id}' includes '${include}', which is not a runbook of this site`,
      loaded.file.file,
      pos.line,
      pos.col,
    );
  if (!w.files.some((f) => f.path === child.file.file))
    w.files.push({ path: child.file.file, sha256: sha256(child.file.text), role: 'include' });
  if (s.confirm) w.steps.push(baseStep(s, id, 'gate', loaded, pos, scope, when));
  walk(
    w,
    child,
    scopeOf(w.inventory, child.data, s.with as Record<string, string | number | boolean>),
    `${id}/`,
    when,
    [...chain, include],
  );
}

function conditions(
  w: Walk,
  when: Condition | Condition[] | undefined,
  scope: Scope,
  loaded: Loaded<Runbook>,
): ResolvedCondition[] {
  if (!when) return [];
  return (Array.isArray(when) ? when : [when]).map((c) => {
    if (c.unreachable !== undefined || c.reachable !== undefined) {
      const target = (c.unreachable ?? c.reachable) as string;
      const host = hostOf(w.inventory, scope, target, loaded);
      useHost(w, host, scope.mayBeDown.has(host));
      return {
        kind: c.unreachable !== undefined ? 'unreachable' : 'reachable',
        host,
        role: target in scope.roles ? target : undefined,
      };
    }
    const value = parseTemplate(c.value ?? '');
    if (c.equals !== undefined) return { kind: 'equals', value, operand: String(c.equals) };
    if (c.not_equals !== undefined) return { kind: 'not_equals', value, operand: String(c.not_equals) };
    return { kind: 'matches', value, operand: c.matches ?? '' };
  });
}

function baseStep(
  s: Step,
  id: string,
  action: ResolvedStep['action'],
  loaded: Loaded<Runbook>,
  pos: { line: number; col: number },
  scope: Scope,
  when: ResolvedCondition[],
): ResolvedStep {
  return {
    id,
    title: s.title ?? s.id,
    action,
    source: { file: loaded.file.file, line: pos.line, col: pos.col },
    runbook: loaded.data.name,
    run: s.run !== undefined ? parseTemplate(s.run) : undefined,
    manual: s.manual !== undefined ? parseTemplate(s.manual) : undefined,
    confirm: s.confirm !== undefined ? parseTemplate(s.confirm) : undefined,
    skipIf: s.skip_if !== undefined ? parseTemplate(s.skip_if) : undefined,
    rollback: s.rollback !== undefined ? parseTemplate(s.rollback) : undefined,
    env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, parseTemplate(v)])),
    hosts: [],
    strategy: s.strategy ?? 'parallel',
    maxParallel: s.max_parallel ?? 20,
    expect: expectation(s.expect),
    until: s.until ? expectation(s.until) : undefined,
    intervalMs: s.interval ? parseDuration(s.interval) : 2000,
    timeoutMs: s.timeout ? parseDuration(s.timeout) : undefined,
    retries: s.retries ?? 0,
    retryDelayMs: s.retry_delay ? parseDuration(s.retry_delay) : 1000,
    ...(s.estimate ? { estimateMs: parseDuration(s.estimate) } : {}),
    capture: s.capture,
    measures: s.measures,
    record: s.record,
    when,
    onFailure: s.on_failure,
    idempotent: s.idempotent ?? false,
    ...(s.irreversible ? { irreversible: true } : {}),
    phase: s.phase ?? 'main',
    sudo: s.sudo,
    scope: { vars: scope.vars, roles: scope.roles },
  };
}

/** Hosts that templates name even when no step runs on them: role hosts, `{{ hosts.NAME.… }}`, the lock's. */
function useNamedHosts(w: Walk, top: Scope): void {
  // role hosts are in templates ({{ hosts.ROLE.address }}) even when no step runs on them
  for (const h of Object.values(top.roles)) if (h in w.inventory.hosts) useHost(w, h, top.mayBeDown.has(h));
  // and so are inventory hosts a template names directly
  for (const st of w.steps) {
    for (const t of [
      st.run,
      st.manual,
      st.confirm,
      st.skipIf,
      st.rollback,
      ...Object.values(st.env),
      ...st.when.flatMap((c) => ('value' in c ? [c.value] : [])),
    ]) {
      for (const ref of t?.refs ?? [])
        if (ref.parts[0] === 'hosts' && ref.parts[1] in w.inventory.hosts)
          useHost(w, ref.parts[1], top.mayBeDown.has(ref.parts[1]));
    }
  }
}

/**
 * A title takes vars, roles and hosts: rendered here, so the run, the dry run, the plan and the report show the same
 * words.
 */
function renderTitles(hosts: Record<string, ResolvedHost>, steps: ResolvedStep[]): void {
  const facts: Record<string, HostFacts> = {};
  for (const [name, h] of Object.entries(hosts)) facts[name] = factsOf(h, name);
  for (const st of steps) {
    if (!st.title.includes('{{')) continue;
    try {
      const hostsOf: Record<string, HostFacts> = { ...facts };
      for (const [role, h] of Object.entries(st.scope.roles)) if (facts[h]) hostsOf[role] = facts[h];
      st.title = render(
        parseTemplate(st.title),
        {
          vars: st.scope.vars,
          roles: st.scope.roles,
          hosts: hostsOf,
          captured: {},
          secrets: {},
          secretLabel: (n) => `<secret ${n}>`,
        },
        'text',
      );
    } catch {
      /* validation says why; the title stays as written */
    }
  }
}

export function resolvePlan(
  project: Project,
  runbookName: string,
  inventoryName: string,
  opts: ResolveOptions = {},
): ResolvedPlan {
  const rb = project.runbooks.get(runbookName);
  if (!rb) throw new ResolveError(`no runbook named '${runbookName}'`);
  const inv = project.inventories.get(inventoryName);
  if (!inv) throw new ResolveError(`no inventory named '${inventoryName}'`);
  const inventory = inv.data;
  const w: Walk = {
    project,
    inv,
    inventory,
    opts,
    hosts: {},
    steps: [],
    maxDepth: opts.maxDepth ?? 8,
    files: [{ path: rb.file.file, sha256: sha256(rb.file.text), role: 'runbook' }],
  };
  const top = scopeOf(inventory, rb.data);
  walk(w, rb, top, '', [], [rb.data.name]);
  useNamedHosts(w, top);
  const lockHost = rb.data.lock ? hostOf(inventory, top, rb.data.lock.on, rb) : undefined;
  if (lockHost) useHost(w, lockHost, false);
  renderTitles(w.hosts, w.steps);

  const { files, hosts, steps } = w;
  const digestInput = files
    .map((f) => `${path.basename(f.path)}\0${f.sha256}`)
    .sort()
    .join('\n');
  const invText = inv.ansible?.digestText ?? inv.file.text;
  files.push({ path: inv.file.file, sha256: sha256(invText), role: 'inventory' });
  const r = rb.data;
  return {
    runbook: {
      name: r.name,
      version: r.version,
      title: r.title,
      service: r.service,
      tier: r.tier,
      rtoMs: r.objectives?.rto ? parseDuration(r.objectives.rto) : undefined,
      rpoMs: r.objectives?.rpo ? parseDuration(r.objectives.rpo) : undefined,
      owner: r.owner,
      description: r.description,
      file: rb.file.file,
    },
    inventory: { name: inventory.name, environment: inventory.environment, file: inv.file.file },
    hosts,
    roles: top.roles,
    steps,
    secrets: (r.secrets ?? {}) as Record<string, SecretSource>,
    lock: lockHost ? { host: lockHost } : undefined,
    digest: sha256(digestInput),
    inventoryDigest: sha256(invText),
    files,
  };
}
