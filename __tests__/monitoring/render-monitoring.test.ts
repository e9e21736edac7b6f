// npm run monitoring:render writes what the stacks ship: the files of every environment, rendered by
// the real script into a temporary directory, pass promtool and amtool, and are byte for byte the
// files the synthesized PlatformStack uploads and the GrafanaStack pushes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Testing } from "cdktf";
import { ENVIRONMENTS } from "../../environments";
import { GrafanaStack } from "../../stacks/grafana-stack";
import { containersByName, shippedFiles, synthesizeStack } from "../stacks/synthesized-stack";
import { AMTOOL, PROMTOOL, run, tempDir, type RunResult } from "./tools";

const ROOT = resolve(__dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const SCRIPT = "scripts/render-monitoring.ts";
const envs = Object.values(ENVIRONMENTS);
const temp = tempDir("render");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

interface Rendered {
  readonly render: RunResult;
  readonly files: Map<string, string>;
  readonly checkConfig: RunResult;
  readonly checkRules: RunResult;
  readonly amtool: RunResult;
}
const rendered = new Map<string, Rendered>();
let unknownEnv: RunResult;
let missingOut: RunResult;

beforeAll(async () => {
  await Promise.all(
    envs.map(async (env) => {
      const out = join(temp.dir, env.name);
      const render = await run(TSX, [SCRIPT, "--env", env.name, "--out", out], { cwd: ROOT });
      if (render.code !== 0) throw new Error(render.report);
      const files = new Map(filesUnder(out).map((f) => [relative(out, f), readFileSync(f, "utf8")]));
      const rules = [...files.keys()].filter((f) => f.startsWith("rules/"));
      const [checkConfig, checkRules, amtool] = await Promise.all([
        run(PROMTOOL, ["check", "config", "prometheus.yml"], { cwd: out }),
        run(PROMTOOL, ["check", "rules", ...rules], { cwd: out }),
        run(AMTOOL, ["check-config", "alertmanager.yml"], { cwd: out }),
      ]);
      rendered.set(env.name, { render, files, checkConfig, checkRules, amtool });
    }),
  );
  [unknownEnv, missingOut] = await Promise.all([
    run(TSX, [SCRIPT, "--env", "qa", "--out", join(temp.dir, "qa")], { cwd: ROOT }),
    run(TSX, [SCRIPT, "--env", "dev"], { cwd: ROOT }),
  ]);
}, 120_000);

afterAll(() => temp.cleanup());

describe.each(envs)("monitoring:render --env $name", (env) => {
  const get = () => rendered.get(env.name)!;

  it("writes prometheus.yml, rules/*.yml, alertmanager.yml and the five dashboards", () => {
    expect([...get().files.keys()].sort()).toEqual([
      "alertmanager.yml",
      "dashboards/acgs-compliance.json",
      "dashboards/acgs-infrastructure.json",
      "dashboards/acgs-overview.json",
      "dashboards/acgs-performance.json",
      "dashboards/acgs-slo.json",
      "prometheus.yml",
      "rules/acgs-alerts.yml",
      "rules/acgs-recording.yml",
      "rules/acgs-slo.yml",
    ]);
  });

  it("passes promtool check config, which loads the rule files beside it", () => {
    const { checkConfig } = get();
    expect({ code: checkConfig.code, output: checkConfig.report }).toEqual({
      code: 0,
      output: expect.stringContaining("SUCCESS: 3 rule files found"),
    });
  });

  it("passes promtool check rules", () => {
    const { checkRules } = get();
    expect({ code: checkRules.code, output: checkRules.report }).toEqual({ code: 0, output: expect.not.stringContaining("FAILED") });
    expect(checkRules.stdout.match(/SUCCESS/g)).toHaveLength(3);
  });

  it("passes amtool check-config", () => {
    const { amtool } = get();
    expect({ code: amtool.code, output: amtool.report }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
  });

  it("is byte for byte what the synthesized PlatformStack mounts into Prometheus, Alertmanager and Grafana", () => {
    const { config } = synthesizeStack(env);
    const containers = containersByName(config);
    const uploads = (container: string, dir: string) =>
      shippedFiles(config, containers[`acgs-${container}-${env.name}`])
        .filter((u) => u.file.startsWith(dir) && !u.file.includes("/secrets/"))
        .map((u) => [u.file.slice(dir.length), u.content] as const);
    const shipped = new Map([
      ...uploads("prometheus", "/etc/prometheus/"),
      ...uploads("alertmanager", "/etc/alertmanager/"),
      ...uploads("grafana", "/etc/grafana/").filter(([f]) => !f.startsWith("provisioning/")),
    ]);
    const { files } = get();
    expect([...shipped.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [file, content] of files) {
      expect({ file, identical: shipped.get(file) === content }).toEqual({ file, identical: true });
    }
  });

  it("holds the dashboards the GrafanaStack pushes to an external Grafana, byte for byte", () => {
    const config = JSON.parse(Testing.synth(new GrafanaStack(Testing.app(), { env })));
    const pushed = Object.values<{ config_json: string }>(config.resource.grafana_dashboard).map((d) => d.config_json);
    const files = [...get().files].filter(([f]) => f.startsWith("dashboards/")).map(([, content]) => content);
    expect(pushed.sort()).toEqual(files.sort());
  });
});

describe("monitoring:render with bad arguments", () => {
  it("refuses an unknown environment, naming the known ones, with exit code 1", () => {
    expect(unknownEnv.code).toBe(1);
    expect(unknownEnv.stderr).toContain('unknown environment "qa" (known environments: dev, staging, production)');
  });

  it("refuses a missing --out with exit code 1", () => {
    expect(missingOut.code).toBe(1);
    expect(missingOut.stderr).toContain("--out is required");
  });
});
