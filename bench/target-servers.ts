// A benchmark target's servers: the target and its companion services, each in its own child
// process, started from a checkout of this repository (this one, or another for an A/B run) and
// bundled as services/Dockerfile bundles them. bench/services.ts and bench/paced-ab.ts start
// their targets here.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CONSTITUTIONAL_HASH, serviceUrlVariable, type ServiceName } from "../services/catalog";
import { freePort } from "../__tests__/support/free-port";
import { createDatabase } from "../__tests__/support/postgres";
import { waitUntil } from "../__tests__/support/wait-until";
import type { OpenLoopRequest } from "./open-loop";
import { AUDIT_APPEND, type BenchRequest, type TargetContext } from "./service-targets";

export interface Target {
  readonly name: string;
  /** A script under bench/targets/, or a service's own entry point (services/<name>/main.ts). */
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Services started first, each in its own process (their main.ts). The target gets their URLs
   * as SERVICE_URL_<NAME> (auth's as AUTH_JWKS_URL); prepare gets them in context.peers.
   */
  readonly companions?: readonly { readonly service: ServiceName; readonly env?: Readonly<Record<string, string>> }[];
  /** Requests per second offered in the paced run, when not the default 2,000 (say why in `note`). */
  readonly offeredRate?: number;
  /** Printed under the table. */
  readonly note?: string;
  /** Ratio to bare node:http this route should reach (issue 3's goals). */
  readonly goal?: number;
  /** Runs once against the started server: creates what the route reads, returns the request to drive. */
  readonly prepare?: (url: string, context: TargetContext) => Promise<BenchRequest>;
  readonly request?: BenchRequest;
}

export const BASELINES: Target[] = [
  { name: "bare node:http", script: "bench/targets/bare-http.ts", request: { method: "GET", path: "/" } },
  { name: "plain Hono", script: "bench/targets/plain-hono.ts", request: { method: "GET", path: "/" } },
  { name: "kit contract path", script: "bench/targets/kit-contract.ts", goal: 0.7, request: { method: "GET", path: "/api/v1/ping" } },
  {
    // The floor of every route that stores before it answers (audit, enforce's decision log, coordinate).
    name: "bare node:http + durable INSERT",
    script: "bench/targets/durable-insert.ts",
    request: { ...AUDIT_APPEND, path: "/" },
  },
];

export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  log(): string;
}

export interface StartedTarget {
  /** Companions first, the target last. */
  readonly servers: readonly Server[];
  readonly main: Server;
  readonly request: BenchRequest;
  stop(): Promise<void>;
}

export interface CheckoutOptions {
  /** The checkout whose sources run (its node_modules must be installed, or linked). */
  readonly root: string;
  /** Writes each server's CPU profile under <profileDir>/<server name>/. */
  readonly profileDir?: string;
  /** Appended to server names (logs, profile folders): tells two checkouts' servers apart. */
  readonly label?: string;
  /** Options for node itself, before the script (V8 flags such as --single-threaded-gc). */
  readonly nodeArgs?: readonly string[];
}

// utime + stime of a process, in microseconds (Linux /proc; 0 elsewhere).
const CLOCK_TICKS_PER_SECOND = 100;
function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU time so far of the servers' processes together, in microseconds. */
export const serversCpuMicros = (servers: readonly Server[]) => servers.reduce((sum, server) => sum + cpuMicros(server.child.pid), 0);

export const requestHeaders = (request: BenchRequest) => ({ "x-constitutional-hash": CONSTITUTIONAL_HASH, "content-type": "application/json", ...request.headers });
export const bodyText = (request: BenchRequest) => (request.body === undefined ? undefined : JSON.stringify(request.body));

/** The request as bench/open-loop.ts sends it. */
export const openLoopRequest = (request: BenchRequest): OpenLoopRequest => ({ method: request.method, path: request.path, headers: requestHeaders(request), body: bodyText(request) });

/** The bundle of a checkout's script, built once per run, as services/Dockerfile builds a service's. */
const bundles = new Map<string, string>();
function runnable(root: string, script: string): string[] {
  if (process.env.BENCH_TSX === "1") return ["--import", "tsx", script];
  const key = `${root}\0${script}`;
  let bundle = bundles.get(key);
  if (bundle === undefined) {
    // Inside node_modules, so that the bundles' external packages resolve; named by checkout too,
    // since an A/B run's second checkout usually links the same node_modules.
    const dir = join(root, "node_modules/.cache/acgs-bench");
    const checkout = createHash("sha256").update(root).digest("hex").slice(0, 8);
    bundle = join(dir, `${script.replace(/\W+/g, "-")}-${checkout}.js`);
    mkdirSync(dir, { recursive: true });
    execFileSync(
      join(root, "node_modules/.bin/esbuild"),
      [script, "--bundle", "--platform=node", "--target=node20", "--format=cjs", "--external:@electric-sql/pglite", "--external:pg-native", "--log-level=warning", `--outfile=${bundle}`],
      { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
    );
    bundles.set(key, bundle);
  }
  return [bundle];
}

export async function startServer(name: string, script: string, env: Record<string, string>, { root, profileDir, nodeArgs = [] }: CheckoutOptions): Promise<Server> {
  const port = await freePort();
  // One profile folder per server (under tsx, its loader thread writes a profile too: thread 1).
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, name.replace(/\W+/g, "-"))}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...profile, ...runnable(root, script)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    name,
    async () => output.includes("ready\n") || (await fetch(`${url}/ready`)).status === 200,
    { timeoutMs: 60_000, intervalMs: 200, abandon: () => (child.exitCode !== null ? `exited: ${output}` : undefined) },
  );
  return { url, child, log: () => output };
}

export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  await exited;
}

let databases = 0;

/**
 * Starts the target's companions, then the target on a database of its own (what one target
 * writes, such as the ~100k decisions of an enforce run, must not become another's input), and
 * prepares the request it is driven with.
 */
export async function startTarget(target: Target, baseEnv: Readonly<Record<string, string>>, checkout: CheckoutOptions): Promise<StartedTarget> {
  const servers: Server[] = [];
  const stop = async () => {
    for (const server of [...servers].reverse()) await stopServer(server);
  };
  const label = checkout.label ? ` (${checkout.label})` : "";
  try {
    const peers: Partial<Record<ServiceName, string>> = {};
    const env: Record<string, string> = { ...baseEnv, DATABASE_URL: await createDatabase(baseEnv.DATABASE_URL, `bench_${++databases}`) };
    for (const companion of target.companions ?? []) {
      const script = `services/${companion.service}/main.ts`;
      const server = await startServer(`${target.name} ${companion.service}${label}`, script, { ...baseEnv, ...companion.env }, checkout);
      servers.push(server);
      peers[companion.service] = server.url;
      env[serviceUrlVariable(companion.service)] = server.url;
      if (companion.service === "auth") env.AUTH_JWKS_URL = `${server.url}/.well-known/jwks.json`;
    }
    const main = await startServer(`${target.name}${label}`, target.script, { ...env, ...target.env }, checkout);
    servers.push(main);
    const request = target.prepare ? await target.prepare(main.url, { env, peers }) : target.request!;
    return { servers, main, request, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
