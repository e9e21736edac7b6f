// Generates the Grafana provider bindings into the git-ignored .gen/ (cdktf get).
// Machines without network read the provider schema from ../shared/provider-schemas (see DESIGN.md).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, CHECKPOINT_DISABLE: "1", CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1" };
const cache = resolve(root, "../shared/provider-schemas");
if (!env.CDKTF_EXPERIMENTAL_PROVIDER_SCHEMA_CACHE_PATH && existsSync(cache)) {
  env.CDKTF_EXPERIMENTAL_PROVIDER_SCHEMA_CACHE_PATH = cache;
}
const cli = resolve(root, "node_modules/.bin/cdktf");
if (!existsSync(cli)) {
  // Production installs (npm ci --omit=dev, e.g. in the service image) have no cdktf-cli and need no bindings.
  console.log("generate-bindings: cdktf-cli not installed, skipping");
  process.exit(0);
}
const result = spawnSync(cli, ["get"], { cwd: root, env, encoding: "utf8" });
if (result.status !== 0 || !existsSync(resolve(root, ".gen/providers/grafana/index.ts"))) {
  process.stderr.write(result.stdout + result.stderr);
  console.error("generate-bindings: `cdktf get` failed; the Grafana provider bindings in .gen/ are missing");
  process.exit(1);
}
console.log("generate-bindings: Grafana provider bindings written to .gen/providers/grafana");
