// Prints where a V8 CPU profile (node --cpu-prof) spent its time: the functions with the most
// self time, and the heaviest callers including what they call.
//   npx tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top=25]
//   FOCUS=<function name> also lists what that function's time went to, callee by callee.
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
  readonly children?: number[];
}

interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const [file, topText = "25"] = process.argv.slice(2);
if (!file) {
  console.error("usage: tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const top = Number(topText);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Microseconds of samples that landed in each node.
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const idle = [...selfTime].filter(([id]) => ["(idle)", "(program)"].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, t]) => a + t, 0);

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/main\//, "").replace(/^node:/, "node:");
  return `${functionName || "(anonymous)"} ${where ? `${where}:${lineNumber + 1}` : ""}`.trim();
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of selfTime) {
  self.set(label(byId.get(id)!), (self.get(label(byId.get(id)!)) ?? 0) + t);
  // Each frame on the stack once, even when recursive.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + t);
  }
}

const busy = total - idle;
const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
console.log(`${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)\n`);
console.log("self time");
for (const [l, t] of [...self].filter(([l]) => !l.startsWith("(idle)") && !l.startsWith("(program)")).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`);
console.log("\ninclusive time");
for (const [l, t] of [...inclusive].filter(([l]) => !l.startsWith("(root)") && !l.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`);

// FOCUS=<function name>: what that function's time went to, by callee (inclusive).
const focus = process.env.FOCUS;
if (focus) {
  const inclusiveOf = new Map<number, number>();
  const sum = (id: number): number => {
    const n = byId.get(id)!;
    const t = (selfTime.get(id) ?? 0) + (n.children ?? []).reduce((a, c) => a + sum(c), 0);
    inclusiveOf.set(id, t);
    return t;
  };
  sum(profile.nodes[0].id);
  const callees = new Map<string, number>();
  let own = 0;
  let whole = 0;
  for (const n of profile.nodes) {
    if (n.callFrame.functionName !== focus) continue;
    // Only the outermost frame of the function, so recursion is not counted twice.
    let nested = false;
    for (let p = parent.get(n.id); p !== undefined; p = parent.get(p)) if (byId.get(p)!.callFrame.functionName === focus) nested = true;
    if (nested) continue;
    whole += inclusiveOf.get(n.id)!;
    own += selfTime.get(n.id) ?? 0;
    for (const c of n.children ?? []) callees.set(label(byId.get(c)!), (callees.get(label(byId.get(c)!)) ?? 0) + inclusiveOf.get(c)!);
  }
  console.log(`\n${focus}: ${pct(whole)} inclusive, ${pct(own)} self; callees:`);
  for (const [l, t] of [...callees].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`);
}
