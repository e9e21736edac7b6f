// A server process started by a test: output to a log file, exit tracked, stopped by signal with
// a SIGKILL fallback, and killed when the test process exits whatever happens.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export interface ServerProcessOptions {
  readonly cwd: string;
  /** stdout and stderr go here. */
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
}

export interface ServerProcess {
  readonly pid: number;
  /** Why it is no longer running, or undefined while it runs. */
  exitReason(): string | undefined;
  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export function spawnServer(command: string, args: readonly string[], options: ServerProcessOptions): ServerProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const child of live) child.kill("SIGKILL");
    });
  }
  const log = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: ["ignore", log, log],
    uid: options.uid,
    gid: options.gid,
  });
  closeSync(log);
  live.add(child);
  let reason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      reason = `exited with ${signal ?? `code ${code}`}`;
      live.delete(child);
      resolve();
    });
    child.once("error", (error) => {
      reason = `failed to start: ${error.message}`;
      live.delete(child);
      resolve();
    });
  });
  return {
    pid: child.pid ?? -1,
    exitReason: () => reason,
    async stop(signal = "SIGTERM", timeoutMs = 5000) {
      if (reason) return;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      if ((await Promise.race([exited, late])) === "late") {
        child.kill("SIGKILL");
        await exited;
      }
      clearTimeout(timer);
    },
  };
}
