// The life of a database server a test starts in a temp directory: start and wait until it
// answers, halt and resume on the same port and data (to test outages), stop and remove the
// directory. A server that fails to come up is killed and its log put in the error.
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { ServerProcess } from "./server-process";
import { waitUntil } from "./wait-until";

export interface RestartableServer {
  /** Stops the server, keeping its port (and its data, where it keeps any). */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port. */
  resume(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

export interface RestartableServerOptions {
  /** For messages, e.g. "PostgreSQL on port 5433". */
  readonly description: string;
  /** Removed by stop(), or when the first start fails. */
  readonly dir: string;
  readonly logFile: string;
  readonly spawn: () => ServerProcess;
  /** True once the server answers. */
  readonly answers: () => Promise<boolean>;
  readonly startTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** How the server is asked to stop, and how long it gets before SIGKILL. */
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
}

export async function startRestartableServer(options: RestartableServerOptions): Promise<RestartableServer> {
  const log = () => (existsSync(options.logFile) ? readFileSync(options.logFile, "utf8") : "");
  let server: ServerProcess | undefined;
  const up = async () => {
    const proc = options.spawn();
    server = proc;
    try {
      await waitUntil(options.description, options.answers, {
        timeoutMs: options.startTimeoutMs,
        intervalMs: options.pollIntervalMs,
        abandon: () => proc.exitReason(),
      });
    } catch (error) {
      await proc.stop("SIGKILL");
      throw new Error(`${(error as Error).message}\n--- ${options.logFile} ---\n${log()}`);
    }
  };
  const down = async () => {
    await server?.stop(options.stopSignal, options.stopTimeoutMs);
    server = undefined;
  };

  try {
    await up();
  } catch (error) {
    rmSync(options.dir, { recursive: true, force: true });
    throw error;
  }
  return {
    halt: down,
    resume: up,
    async stop() {
      await down();
      rmSync(options.dir, { recursive: true, force: true });
    },
    log,
  };
}
