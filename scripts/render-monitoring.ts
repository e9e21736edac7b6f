// npm run monitoring:render -- --env <name> --out <dir>
// Writes exactly what the environment's stack ships to Prometheus, Alertmanager and Grafana
// (prometheus.yml, rules/*.yml, alertmanager.yml, dashboards/*.json), for an operator to read and
// to feed to promtool and amtool. The files come from the stack itself, so they cannot drift from it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { App } from "cdktf";
import { ENVIRONMENTS } from "../environments";
import { PlatformStack } from "../stacks/platform-stack";

const USAGE = "usage: npm run monitoring:render -- --env <name> --out <dir>";

function fail(message: string): never {
  process.stderr.write(`monitoring:render: ${message}\n${USAGE}\n`);
  process.exit(1);
}

let values: { env?: string; out?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { env: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\nenvironments: ${Object.keys(ENVIRONMENTS).join(", ")}\n`);
  process.exit(0);
}
if (!values.env) fail(`--env is required (known environments: ${Object.keys(ENVIRONMENTS).join(", ")})`);
if (!values.out) fail("--out is required");
const env = (ENVIRONMENTS as Record<string, (typeof ENVIRONMENTS)[keyof typeof ENVIRONMENTS] | undefined>)[values.env];
if (!env) fail(`unknown environment "${values.env}" (known environments: ${Object.keys(ENVIRONMENTS).join(", ")})`);

// Constructing the stack is enough: nothing is synthesized or written to cdktf.out. Image source
// hashes do not reach the monitoring files.
const stack = new PlatformStack(new App(), { env, sourceHash: () => "render".padEnd(64, "0") });
const out = resolve(values.out);
for (const [path, content] of Object.entries(stack.monitoringFiles)) {
  const file = join(out, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  process.stdout.write(`${join(values.out, path)}\n`);
}
