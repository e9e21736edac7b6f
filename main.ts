// Synthesizes one stack per environment into cdktf.out/ (npm run synth, or npx cdktf synth).
import { App } from "cdktf";
import { ENVIRONMENTS } from "./environments";
import { PlatformStack } from "./stacks/platform-stack";

const app = new App();
for (const env of Object.values(ENVIRONMENTS)) {
  new PlatformStack(app, { env, sourceRoot: __dirname });
}
app.synth();
