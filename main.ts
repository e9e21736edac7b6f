// Synthesizes the stacks of every environment into cdktf.out/ (npm run synth, or npx cdktf synth):
// acgs-<env> (the platform) and acgs-grafana-<env> (its dashboards on an external Grafana).
import { App } from "cdktf";
import { serviceSourceHash } from "./constructs/service/service-source-hash";
import { ENVIRONMENTS } from "./environments";
import { GrafanaStack } from "./stacks/grafana-stack";
import { PlatformStack } from "./stacks/platform-stack";

const app = new App();
const hashes = new Map<string, string>();
const sourceHash = (service: string) => {
  if (!hashes.has(service)) hashes.set(service, serviceSourceHash(__dirname, service));
  return hashes.get(service)!;
};
for (const env of Object.values(ENVIRONMENTS)) {
  new PlatformStack(app, { env, sourceHash });
  new GrafanaStack(app, { env });
}
app.synth();
