// Requests per second and latency of each service's main route, driven from this process while
// every server runs in its own child process, next to a bare node:http server and plain Hono
// measured in the same run: full load by autocannon, then latency at an evenly paced offered
// 2,000 req/s by bench/open-loop.ts. PostgreSQL (fsync and synchronous commit on, WAL segments
// ready for reuse as on a running server: bench/steady-postgres.ts) and Redis are real servers
// started here. For a change to one route's paced latency, bench/paced-ab.ts compares two
// checkouts interleaved, which one run per checkout cannot do on a shared host.
//   npm run bench:services     BENCH_SECONDS=8 (default), BENCH_ONLY=<name substring>,
//                              BENCH_REPEAT=<n>: best of n full-load runs per target (busy machine)
//   Servers run as the images run them: bundled by esbuild with services/Dockerfile's flags (tsx
//   would add a __name() call per named closure made per request). BENCH_TSX=1 runs the sources
//   through tsx instead.
//   BENCH_PROFILE=<dir>        also writes each server's CPU profile under <dir>/<target>/ (the
//                              server's is CPU.*.0.001.cpuprofile; read it with
//                              npx tsx bench/cpu-profile-summary.ts <file>)
//   BENCH_NONDURABLE=1         PostgreSQL without fsync: tells the wait for commits apart from CPU
//                              (coordinate: paced P99 55 ms durable, 40 ms without; its time is CPU)
import autocannon from "autocannon";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { startRedis } from "../__tests__/support/redis";
import { openLoop, type OpenLoopResult } from "./open-loop";
import { SERVICE_TARGETS, type BenchRequest } from "./service-targets";
import { startSteadyPostgres } from "./steady-postgres";
import { BASELINES, bodyText, openLoopRequest, requestHeaders, serversCpuMicros, startTarget, type Target } from "./target-servers";
import { tableRow, type Columns } from "./text-table";

const ROOT = resolve(__dirname, "..");
const PROFILE_DIR = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
const CONNECTIONS = 50;
const OFFERED_RATE = 2000;
const FIXED_SECONDS = Math.min(SECONDS, 5);

interface Measured {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Latency at an even-paced offered OFFERED_RATE (bench/open-loop.ts). */
  readonly atRate: OpenLoopResult;
  readonly offeredRate: number;
  readonly note?: string;
  /** CPU time of the target's processes (companions included) per request under full load. */
  readonly cpuMicrosPerRequest: number;
  readonly goal?: number;
}

/** Full load: CONNECTIONS connections, each sending its next request as soon as the last is answered. */
function drive(url: string, request: BenchRequest, options: { seconds: number }): Promise<autocannon.Result> {
  return new Promise((ok, fail) => {
    autocannon(
      {
        url: `${url}${request.path}`,
        method: request.method as autocannon.Request["method"],
        headers: requestHeaders(request),
        body: bodyText(request),
        connections: CONNECTIONS,
        duration: options.seconds,
      },
      (error, result) => (error ? fail(error) : ok(result)),
    );
  });
}

async function measure(target: Target, baseEnv: Record<string, string>): Promise<Measured> {
  const started = await startTarget(target, baseEnv, { root: ROOT, profileDir: PROFILE_DIR });
  const { servers, main, request } = started;
  try {
    await drive(main.url, request, { seconds: 2 }); // warm-up: JIT, pools, caches
    let full: autocannon.Result | undefined;
    let cpu = 0;
    for (let i = 0; i < REPEAT; i++) {
      const before = serversCpuMicros(servers);
      const run = await drive(main.url, request, { seconds: SECONDS });
      if (full === undefined || run.requests.average > full.requests.average) {
        full = run;
        cpu = (serversCpuMicros(servers) - before) / Math.max(1, run.requests.total);
      }
    }
    const atRate = await openLoop(main.url, openLoopRequest(request), { rate: target.offeredRate ?? OFFERED_RATE, seconds: FIXED_SECONDS, connections: CONNECTIONS });
    const errors = full!.errors + full!.non2xx + atRate.errors;
    if (errors > 0) process.stderr.write(`${target.name}: ${errors} errors or non-2xx answers\n${main.log().slice(-1000)}\n`);
    return {
      name: target.name,
      rps: full!.requests.average,
      p50: full!.latency.p50,
      p99: full!.latency.p99,
      errors,
      atRate,
      offeredRate: target.offeredRate ?? OFFERED_RATE,
      note: target.note,
      cpuMicrosPerRequest: cpu,
      goal: target.goal,
    };
  } finally {
    await started.stop();
  }
}

function report(results: readonly Measured[]): void {
  const bare = results.find((r) => r.name === "bare node:http")!;
  console.log(`\nFull load: ${CONNECTIONS} connections, ${SECONDS} s each (best of ${REPEAT}; autocannon's latencies are whole ms).`);
  console.log(`Then "offered": ${OFFERED_RATE} req/s unless noted, evenly paced, for ${FIXED_SECONDS} s (bench/open-loop.ts; P99 goal < 5 ms).`);
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores shared with other work)`);
  const columns: Columns = [["target", -46], ["req/s", 8], ["P50 ms", 7], ["P99 ms", 7], ["ratio", 6], ["goal", 5], ["offered", 8], ["paced P50", 10], ["paced P99", 10], ["errors", 7], ["CPU µs/req", 11], ["CPU ratio", 10]];
  const row = (cells: string[]) => tableRow(columns, cells);
  console.log(row(columns.map(([c]) => c)));
  for (const r of results) {
    const ratio = r.rps / bare.rps;
    console.log(
      row([
        r.name,
        r.rps.toFixed(0),
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        ratio.toFixed(2),
        r.goal === undefined ? "" : `${r.goal.toFixed(2)}${ratio >= r.goal ? "" : "!"}`,
        String(r.offeredRate),
        r.atRate.p50.toFixed(2),
        `${r.atRate.p99.toFixed(2)}${r.atRate.p99 < 5 ? "" : "!"}`,
        String(r.errors),
        r.cpuMicrosPerRequest.toFixed(1),
        (bare.cpuMicrosPerRequest / r.cpuMicrosPerRequest).toFixed(2),
      ]),
    );
  }
  console.log("! = goal missed. CPU µs/req: the target's server processes' CPU time per request under full load");
  console.log("(steadier than req/s on a shared machine); CPU ratio: bare's over the target's.");
  for (const r of results) if (r.note) console.log(`${r.name}: ${r.note}`);
  const lag = Math.max(...results.map((r) => r.atRate.sendLagP99));
  console.log(`The paced generator's own timer lag (P99, worst target): ${lag.toFixed(2)} ms, not counted in the @2000 latencies (a late timer sends a small burst, which is).`);
}

async function main(): Promise<void> {
  // Durable commits, as in production: a write's latency includes its WAL flush.
  const [postgres, redis] = await Promise.all([startSteadyPostgres({ durable: process.env.BENCH_NONDURABLE !== "1" }), startRedis()]);
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn", HASH_STRICT: "true" };
  const only = process.env.BENCH_ONLY;
  const targets = [...BASELINES, ...SERVICE_TARGETS].filter((t) => !only || t.name === "bare node:http" || t.name.includes(only));
  const results: Measured[] = [];
  try {
    for (const target of targets) {
      await postgres.checkpoint(); // the WAL the last target wrote becomes segments ready for reuse
      process.stderr.write(`measuring ${target.name}...\n`);
      results.push(await measure(target, env));
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
  }
  report(results);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
