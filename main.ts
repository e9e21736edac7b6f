// Synthesizes the stacks of every environment into cdktf.out/ (npm run synth, or npx cdktf synth):
// acgs-<env> (the platform) and acgs-grafana-<env> (its dashboards on an external Grafana).
import { App } from "cdktf";
import { serviceSourceHasher } from "./constructs/service/service-source-hash";
import { ENVIRONMENTS } from "./environments";
import { GrafanaStack } from "./stacks/grafana-stack";
import { PlatformStack } from "./stacks/platform-stack";

// Source-mapped stack traces make every token cdktf creates expensive to capture; synth errors name their resource anyway.
process.setSourceMapsEnabled(false);
const app = new App({ stackTraces: false });
const sourceHash = serviceSourceHasher(__dirname);
for (const env of Object.values(ENVIRONMENTS)) {
  new PlatformStack(app, { env, sourceHash });
  new GrafanaStack(app, { env });
}
app.synth();
