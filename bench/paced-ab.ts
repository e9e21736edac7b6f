// Paced latency of one target from two checkouts (A: this one, B: another) next to bare
// node:http, interleaved: each is offered 2,000 req/s in turn for a short slice, round after
// round, in a rotating order, so that the host's noise (this machine is shared; bare's own P99
// swings from 2 to 40 ms between runs) falls on all three alike. Each one's latencies are pooled
// over its slices. One run of bench/services.ts per checkout cannot tell a change to a route's
// tail latency from that noise; this can, or shows that it cannot.
//   BENCH_ONLY=<name part of one target> BENCH_AB_BASE=<other checkout> npx tsx bench/paced-ab.ts
//   BENCH_ROUNDS=12 (default), BENCH_SLICE_SECONDS=2 (default), BENCH_RATE=2000 (default).
//   BENCH_AB_NODE_ARGS="<node options>" starts B's servers with them (BENCH_AB_BASE=. compares flags).
//   BENCH_AB_WITH=<name part of another target> makes B that target, from this checkout: a route
//   next to its floor, e.g. BENCH_ONLY="audit append" BENCH_AB_WITH="durable INSERT".
//   Without either, only this checkout's target and bare. The other checkout needs its
//   node_modules (a link to this one's is enough): git worktree add /tmp/base <ref> &&
//   ln -s "$PWD/node_modules" /tmp/base/node_modules
import { resolve } from "node:path";
import { createDatabase } from "../__tests__/support/postgres";
import { startRedis } from "../__tests__/support/redis";
import { openLoop, percentile } from "./open-loop";
import { SERVICE_TARGETS } from "./service-targets";
import { startSteadyPostgres } from "./steady-postgres";
import { BASELINES, openLoopRequest, serversCpuMicros, startTarget, type StartedTarget, type Target } from "./target-servers";
import { tableRow, type Columns } from "./text-table";

const ROOT = resolve(__dirname, "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const CONNECTIONS = 50;
const GOAL_MS = 5;
// Node options for B's servers only: with BENCH_AB_BASE=. the same code under other V8 flags.
const B_NODE_ARGS = (process.env.BENCH_AB_NODE_ARGS ?? "").split(" ").filter(Boolean);

interface Arm {
  readonly label: string;
  /** Which checkout (or, with BENCH_AB_WITH, which target), for the A and B arms. */
  readonly from?: string;
  readonly started: StartedTarget;
  readonly slices: Float64Array[];
  readonly sliceP99s: number[];
  errors: number;
  /** CPU time of the arm's server processes (companions included) over its slices, and the requests sent. */
  cpuMicros: number;
  requests: number;
}

/** The one target (a service route, or a baseline other than bare) whose name contains `part`. */
function oneTarget(variable: string, part: string | undefined): Target {
  const matching = [...BASELINES.slice(1), ...SERVICE_TARGETS].filter((t) => part !== undefined && t.name.includes(part));
  if (matching.length !== 1) {
    throw new Error(`${variable} must name exactly one target of bench/service-targets.ts or a baseline; "${part ?? ""}" matches ${matching.length}: ${matching.map((t) => t.name).join(", ")}`);
  }
  return matching[0];
}

async function main(): Promise<void> {
  const target = oneTarget("BENCH_ONLY", process.env.BENCH_ONLY);
  const base = process.env.BENCH_AB_BASE ? resolve(process.env.BENCH_AB_BASE) : undefined;
  const other = process.env.BENCH_AB_WITH ? oneTarget("BENCH_AB_WITH", process.env.BENCH_AB_WITH) : undefined;
  if (base && other) throw new Error("BENCH_AB_BASE and BENCH_AB_WITH both name arm B: set one of them");
  const [postgres, redis] = await Promise.all([startSteadyPostgres(), startRedis()]);
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn", HASH_STRICT: "true" };
  const arms: Arm[] = [];
  const arm = (label: string, started: StartedTarget, from?: string): Arm => ({ label, from, started, slices: [], sliceP99s: [], errors: 0, cpuMicros: 0, requests: 0 });
  try {
    arms.push(arm("bare", await startTarget(BASELINES[0], env, { root: ROOT })));
    arms.push(arm("A", await startTarget(target, env, { root: ROOT, label: "A" }), ROOT));
    // Arm B: this target from the other checkout, or another target from this one. A database of
    // its own for its companions, and Redis database 1: the two arms' schemas and caches must not meet.
    const b = base ? { target, root: base, from: base } : other ? { target: other, root: ROOT, from: other.name } : undefined;
    if (b) {
      const own = { ...env, DATABASE_URL: await createDatabase(postgres.url, "bench_ab_b"), REDIS_URL: `${redis.url}/1` };
      arms.push(arm("B", await startTarget(b.target, own, { root: b.root, label: "B", nodeArgs: B_NODE_ARGS }), b.from));
    }

    const slice = (a: Arm, seconds: number) =>
      openLoop(a.started.main.url, openLoopRequest(a.started.request), { rate: RATE, seconds, connections: CONNECTIONS });
    for (const a of arms) await slice(a, 3); // warm-up: JIT, pools, caches
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < arms.length; i++) {
        const a = arms[(round + i) % arms.length];
        const before = serversCpuMicros(a.started.servers);
        const result = await slice(a, SLICE_SECONDS);
        a.cpuMicros += serversCpuMicros(a.started.servers) - before;
        a.requests += result.sent;
        a.slices.push(result.latencies);
        a.sliceP99s.push(result.p99);
        a.errors += result.errors;
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${arms.map((a) => `${a.label} P99 ${a.sliceP99s[round].toFixed(2)}`).join(", ")}\n`);
    }
  } finally {
    for (const a of arms) await a.started.stop();
    await Promise.all([postgres.stop(), redis.stop()]);
  }
  report(target.name, arms);
}

function report(name: string, arms: readonly Arm[]): void {
  console.log(`\n${name}: ${RATE} req/s offered, evenly paced, ${CONNECTIONS} connections; ${ROUNDS} rounds of ${SLICE_SECONDS} s slices, interleaved.`);
  const columns: Columns = [["arm", -16], ["P50", 7], ["P90", 7], ["P99", 7], ["P99.9", 7], ["max", 8], ["slice P99 median", 17], [`slices P99<${GOAL_MS}`, 13], ["errors", 7], ["CPU µs/req", 11]];
  const row = (cells: string[]) => tableRow(columns, cells);
  console.log(row(columns.map(([c]) => c)));
  for (const a of arms) {
    const pooled = Float64Array.from(a.slices.flatMap((s) => Array.from(s))).sort();
    const sorted = [...a.sliceP99s].sort((x, y) => x - y);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const met = a.sliceP99s.filter((p) => p < GOAL_MS).length;
    const ms = (q: number) => percentile(pooled, q).toFixed(2);
    console.log(row([a.label === "bare" ? "bare node:http" : a.label, ms(0.5), ms(0.9), ms(0.99), ms(0.999), (pooled.at(-1) ?? Number.NaN).toFixed(1), median.toFixed(2), `${met}/${a.sliceP99s.length}`, String(a.errors), (a.cpuMicros / Math.max(1, a.requests)).toFixed(1)]));
  }
  console.log("CPU µs/req: the arm's server processes (companions, not PostgreSQL or Redis) at the paced rate (10 ms ticks).");
  for (const a of arms) if (a.from) console.log(`${a.label}: ${a.from}`);
  const [, first, second] = arms;
  if (first && second) {
    const wins = first.sliceP99s.filter((p, i) => p < second.sliceP99s[i]).length;
    console.log(`Rounds where A's slice P99 was below B's: ${wins} of ${ROUNDS}.`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
