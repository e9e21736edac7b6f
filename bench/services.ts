// Requests per second and latency of each service's main route, driven by autocannon from this
// process while every server runs in its own child process, next to a bare node:http server and
// plain Hono measured in the same run. PostgreSQL and Redis are real servers started here.
//   npm run bench:services            (BENCH_SECONDS=8 by default; BENCH_ONLY=<name substring>)
import autocannon from "autocannon";
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { CONSTITUTIONAL_HASH } from "../services/catalog";
import { freePort } from "../__tests__/support/free-port";
import { startPostgres } from "../__tests__/support/postgres";
import { startRedis } from "../__tests__/support/redis";
import { waitUntil } from "../__tests__/support/wait-until";
import { SERVICE_TARGETS, type BenchRequest, type TargetContext } from "./service-targets";

const ROOT = resolve(__dirname, "..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 50;
const OFFERED_RATE = 2000;

export interface Target {
  readonly name: string;
  /** A script under bench/targets/, or a service's own entry point. */
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Ratio to bare node:http this route should reach (issue 3's goals). */
  readonly goal?: number;
  /** Runs once against the started server: creates what the route reads, returns the request to drive. */
  readonly prepare?: (url: string, context: TargetContext) => Promise<BenchRequest>;
  readonly request?: BenchRequest;
}

const BASELINES: Target[] = [
  { name: "bare node:http", script: "bench/targets/bare-http.ts", request: { method: "GET", path: "/" } },
  { name: "plain Hono", script: "bench/targets/plain-hono.ts", request: { method: "GET", path: "/" } },
  { name: "kit contract path", script: "bench/targets/kit-contract.ts", goal: 0.7, request: { method: "GET", path: "/api/v1/ping" } },
];

interface Measured {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly fixedRateP99: number;
  readonly fixedRateRps: number;
  readonly goal?: number;
}

function drive(url: string, request: BenchRequest, options: { seconds: number; rate?: number }): Promise<autocannon.Result> {
  return new Promise((ok, fail) => {
    autocannon(
      {
        url: `${url}${request.path}`,
        method: request.method as autocannon.Request["method"],
        headers: { "x-constitutional-hash": CONSTITUTIONAL_HASH, "content-type": "application/json", ...request.headers },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        connections: options.rate ? 20 : CONNECTIONS,
        duration: options.seconds,
        overallRate: options.rate,
      },
      (error, result) => (error ? fail(error) : ok(result)),
    );
  });
}

async function startTarget(target: Target, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const child = spawn(TSX, [target.script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env, ...target.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    target.name,
    async () => output.includes("ready\n") || (await fetch(`${url}/ready`)).status === 200,
    { timeoutMs: 60_000, intervalMs: 200, abandon: () => (child.exitCode !== null ? `exited: ${output}` : undefined) },
  );
  return { url, child, log: () => output };
}

async function measure(target: Target, env: Record<string, string>, context: TargetContext): Promise<Measured> {
  const { url, child, log } = await startTarget(target, env);
  try {
    const request = target.prepare ? await target.prepare(url, context) : target.request!;
    await drive(url, request, { seconds: 2 }); // warm-up: JIT, pools, caches
    const full = await drive(url, request, { seconds: SECONDS });
    const fixed = await drive(url, request, { seconds: Math.min(SECONDS, 5), rate: OFFERED_RATE });
    const errors = full.errors + full.non2xx + fixed.errors + fixed.non2xx;
    if (errors > 0) process.stderr.write(`${target.name}: ${errors} errors or non-2xx answers\n${log().slice(-1000)}\n`);
    return {
      name: target.name,
      rps: full.requests.average,
      p50: full.latency.p50,
      p99: full.latency.p99,
      errors,
      fixedRateP99: fixed.latency.p99,
      fixedRateRps: fixed.requests.average,
      goal: target.goal,
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
  }
}

async function main(): Promise<void> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn", HASH_STRICT: "true" };
  const context: TargetContext = { env };
  const only = process.env.BENCH_ONLY;
  const targets = [...BASELINES, ...SERVICE_TARGETS].filter((t) => !only || t.name === "bare node:http" || t.name.includes(only));
  const results: Measured[] = [];
  try {
    for (const target of targets) {
      process.stderr.write(`measuring ${target.name}...\n`);
      results.push(await measure(target, env, context));
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
  }
  const bare = results.find((r) => r.name === "bare node:http")!.rps;
  console.log(`\n${CONNECTIONS} connections, ${SECONDS} s each; then an offered ${OFFERED_RATE} req/s for ${Math.min(SECONDS, 5)} s (P99 goal < 5 ms)`);
  console.log(["target".padEnd(34), "req/s".padStart(8), "P50 ms".padStart(7), "P99 ms".padStart(7), "ratio".padStart(6), "goal".padStart(5), "@2000 P99".padStart(10), "errors".padStart(7)].join(" "));
  for (const r of results) {
    const ratio = r.rps / bare;
    const goal = r.goal === undefined ? "" : `${r.goal.toFixed(2)}${ratio >= r.goal ? "" : "!"}`;
    console.log(
      [
        r.name.padEnd(34),
        r.rps.toFixed(0).padStart(8),
        r.p50.toFixed(2).padStart(7),
        r.p99.toFixed(2).padStart(7),
        ratio.toFixed(2).padStart(6),
        goal.padStart(5),
        `${r.fixedRateP99.toFixed(2)}${r.fixedRateP99 < 5 ? "" : "!"}`.padStart(10),
        String(r.errors).padStart(7),
      ].join(" "),
    );
  }
  console.log("! = goal missed");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
