// Every way lifeboat reaches a host, by the tag of its ResolvedHost (`transport`). The runner,
// the session and the dry run take a `Transports` map: none of them names a transport.
// A new transport: its host variant in src/ports.ts, its file here in src/transport/, its entry
// below (CONTRIBUTING.md, "How to add a transport").
import type { HostOf, Operator, ResolvedHost, Transport, TransportKind } from '../ports.js';

/** One transport per kind, each typed for the hosts it reaches. */
export type Transports = { readonly [K in TransportKind]: Transport<HostOf<K>> };

/** What a run's transports are made from: the command line and the operator. */
export interface TransportSetup {
  /** trust on first use (`--accept-new-host-keys`) */
  acceptNewHostKeys?: boolean;
  /** who types a key's passphrase */
  operator: Operator;
}

interface Entry<K extends TransportKind> {
  /**
   * false: the host is there without connecting (this machine). The run never dials it, records
   * no host state for it and never finds it unreachable.
   */
  dials: boolean;
  /** The transport of a run. Loaded here, on first use, so the CLI's start-up reads none of them. */
  make(setup: TransportSetup): Promise<Transport<HostOf<K>>>;
}

export const TRANSPORTS: { readonly [K in TransportKind]: Entry<K> } = {
  ssh: {
    dials: true,
    make: async (setup) => {
      const { SshTransport } = await import('./ssh.js');
      const asked = new Map<string, Promise<string>>();
      return new SshTransport({
        acceptNewHostKeys: setup.acceptNewHostKeys,
        askPassphrase: (key) => {
          if (!asked.has(key)) asked.set(key, setup.operator.secret({ name: key, prompt: `Passphrase for ${key}:` }));
          return asked.get(key)!;
        },
      });
    },
  },
  local: {
    dials: false,
    make: async () => new (await import('./local.js')).LocalTransport(),
  },
};

const KINDS = Object.keys(TRANSPORTS) as TransportKind[];

/** Every transport of a run, made together. */
export async function makeTransports(setup: TransportSetup): Promise<Transports> {
  const made = await Promise.all(KINDS.map(async (k) => [k, await TRANSPORTS[k].make(setup)] as const));
  return Object.fromEntries(made) as unknown as Transports;
}

/** One transport for every kind of host: the dry run, and the fakes of the tests. */
export function oneTransportForAll(t: Transport): Transports {
  return Object.fromEntries(KINDS.map((k) => [k, t])) as unknown as Transports;
}

/** The transport that reaches this host. */
export function transportFor<H extends ResolvedHost>(transports: Transports, host: H): Transport<H> {
  // the map is keyed by the tag, so the entry takes this host; TypeScript cannot follow that
  return transports[host.transport] as unknown as Transport<H>;
}

/** Whether a run connects to this host before its steps run there (decide asks; the runner dials). */
export const dials = (host: ResolvedHost): boolean => TRANSPORTS[host.transport].dials;

/** Close every connection of every transport; never throws. */
export async function closeAll(transports: Transports): Promise<void> {
  await Promise.allSettled(KINDS.map((k) => transports[k].closeAll()));
}
