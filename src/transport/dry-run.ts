// The dry run: a Transport that connects to nothing and runs nothing. It records every
// command it is handed and answers as if the command did what it should; the engine is the
// same one that runs for real (no dry-run branches through it).
import type { Connection, ExecRequest, ExecResult, ResolvedHost, Transport } from '../ports.js';

export interface RecordedExec {
  host: string;
  command: string;
  sudo?: boolean | string;
  env: string[];
  timeoutMs?: number;
}

export class DryRunTransport implements Transport {
  readonly recorded: RecordedExec[] = [];
  readonly connected = new Set<string>();

  async connect(host: ResolvedHost): Promise<Connection> {
    this.connected.add(host.name);
    return {
      host,
      exec: async (req: ExecRequest): Promise<ExecResult> => {
        if (req.gate) await req.gate;
        this.recorded.push({
          host: host.name,
          command: req.command,
          sudo: req.sudo,
          env: Object.keys(req.env ?? {}),
          timeoutMs: req.timeoutMs,
        });
        return {
          exitCode: 0,
          stdout: '',
          stderr: '',
          timedOut: false,
          canceled: false,
          signal: null,
          durationMs: 0,
          simulated: true,
        };
      },
      close: async () => {},
    };
  }

  async closeAll(): Promise<void> {}
}
