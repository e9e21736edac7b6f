// Wall time of synthesizing every stack: the app directly (tsx main.ts) and through `cdktf synth`.
// Prints the median of 5 runs of each against DESIGN.md's budgets (1.5 s and 4 s on a 2-core machine).
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(label: string, command: string, args: string[], budgetSeconds: number): void {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(command, args, {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1", FORCE_COLOR: "0" },
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (run.status !== 0) {
      throw new Error(`${label} failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    samples.push(seconds);
  }
  const m = median(samples);
  console.log(
    `${label.padEnd(36)} median ${m.toFixed(3)} s  (min ${Math.min(...samples).toFixed(3)}, max ${Math.max(...samples).toFixed(3)}, n=${RUNS})  budget ${budgetSeconds} s  ${m <= budgetSeconds ? "within" : "OVER"}`,
  );
}

time("app: tsx main.ts", resolve(ROOT, "node_modules/.bin/tsx"), ["main.ts"], 1.5);
time("cli: cdktf synth", resolve(ROOT, "node_modules/.bin/cdktf"), ["synth", "--quiet"], 4);
