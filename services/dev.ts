// `npm run dev`: all nine services on their dev ports with the embedded defaults, one child
// process each (embedded PGlite initializes on the event loop, so processes start in parallel
// and a crash of one does not hide behind another). Ctrl-C stops them all.
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { SERVICES, type ServiceDefinition } from "./catalog";

const root = path.resolve(__dirname, "..");
const width = Math.max(...SERVICES.map((s) => s.name.length));

interface Child {
  readonly service: ServiceDefinition;
  readonly process: ChildProcess;
  readonly exited: Promise<number>;
}

function start(service: ServiceDefinition): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(service.devPort) };
  // One data directory for nine services would be nine servers on the same files.
  if (process.env.PGLITE_DATA_DIR) env.PGLITE_DATA_DIR = path.join(process.env.PGLITE_DATA_DIR, service.name);
  const child = spawn(process.execPath, ["--import", "tsx", path.join("services", service.name, "main.ts")], {
    cwd: root,
    env,
    stdio: "inherit",
    // Own process group: Ctrl-C reaches only this process, which stops each child exactly once
    // (a second signal would cut a child's graceful shutdown short).
    detached: true,
  });
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 0)));
    child.once("error", () => resolve(1));
  });
  return { service, process: child, exited };
}

/** Resolves true once GET `url` answers `status` (any status when undefined), false if the child exits first. */
async function waitFor(url: string, status: number | undefined, exited: Promise<number>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      await res.body?.cancel();
      if (status === undefined || res.status === status) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  const children = SERVICES.map(start);
  let stopping = false;
  const stopAll = (signal: NodeJS.Signals = "SIGTERM") => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("stopping all services\n");
    for (const c of children) if (c.process.exitCode === null) c.process.kill(signal);
  };
  process.on("SIGINT", () => stopAll());
  process.on("SIGTERM", () => stopAll());

  for (const c of children) {
    void c.exited.then((code) => {
      if (!stopping) {
        process.stderr.write(`${c.service.name} exited with code ${code}; stopping the others\n`);
        process.exitCode = 1;
        stopAll();
      } else if (code !== 0) {
        process.stderr.write(`${c.service.name} exited with code ${code}\n`);
      }
    });
    const url = `http://127.0.0.1:${c.service.devPort}`;
    void waitFor(`${url}/health`, undefined, c.exited).then((up) => {
      if (up && !stopping) process.stdout.write(`${c.service.name.padEnd(width)}  ${url}  (pid ${c.process.pid})\n`);
    });
  }
  // Embedded PGlite takes a few seconds per service to initialize; say when all are ready.
  const started = Date.now();
  void Promise.all(children.map((c) => waitFor(`http://127.0.0.1:${c.service.devPort}/ready`, 200, c.exited))).then((ready) => {
    if (ready.every(Boolean) && !stopping) {
      process.stdout.write(`all ${children.length} services ready after ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops them\n`);
    }
  });

  const codes = await Promise.all(children.map((c) => c.exited));
  if (codes.some((code) => code !== 0)) process.exitCode = 1;
  process.stdout.write("all services stopped\n");
}

void main();
