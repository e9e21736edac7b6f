// The rules as Prometheus evaluates them: promtool check rules on each environment's files, and
// promtool test rules on unit tests generated from the environment's objectives (rule-unit-tests.ts):
// every alert fires when it should and stays silent when it should not.
import { join } from "node:path";
import { stringify } from "yaml";
import { ENVIRONMENTS } from "../../environments";
import { ALERTS } from "../../monitoring/alert-rules";
import { renderRuleFiles, ruleFilesYaml } from "../../monitoring/rule-files";
import { isAlertingRule } from "../../monitoring/rule-types";
import { BURN_RATE_ALERT } from "../../monitoring/slo-rules";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { buildRuleTests } from "./rule-unit-tests";
import { PROMTOOL, run, tempDir, writeFiles, type RunResult } from "./tools";

const envs = Object.values(ENVIRONMENTS);
const temp = tempDir("rules");
const results = new Map<string, { check: RunResult; test: RunResult; tests: string[] }>();

beforeAll(async () => {
  // One directory per environment, both promtool runs of all environments in parallel.
  await Promise.all(
    envs.map(async (env) => {
      const dir = join(temp.dir, env.name);
      const rules = ruleFilesYaml(env);
      const unitTests = buildRuleTests(env);
      writeFiles(dir, {
        ...Object.fromEntries(Object.entries(rules).map(([name, yaml]) => [`rules/${name}`, yaml])),
        ...Object.fromEntries(Object.entries(unitTests).map(([name, file]) => [name, stringify(file, { lineWidth: 0 })])),
      });
      const [check, test] = await Promise.all([
        run(PROMTOOL, ["check", "rules", ...Object.keys(rules).map((f) => `rules/${f}`)], { cwd: dir }),
        run(PROMTOOL, ["test", "rules", ...Object.keys(unitTests)], { cwd: dir }),
      ]);
      results.set(env.name, { check, test, tests: Object.values(unitTests).flatMap((f) => f.tests.map((t) => t.name)) });
    }),
  );
}, 180_000);

afterAll(() => temp.cleanup());

describe.each(envs)("rules of $name", (env) => {
  const alerts = Object.values(renderRuleFiles(env))
    .flatMap((f) => f.groups.flatMap((g) => g.rules))
    .filter(isAlertingRule);

  it("pass promtool check rules", () => {
    const { check } = results.get(env.name)!;
    expect({ code: check.code, output: check.report }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
  });

  it("pass their promtool unit tests (each alert fires when it should, and only then)", () => {
    const { test } = results.get(env.name)!;
    expect({ code: test.code, output: test.report }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
  });

  it("have unit tests for every alert, firing and silent", () => {
    const { tests } = results.get(env.name)!;
    const names = new Set(alerts.map((a) => a.alert));
    const mentioned = new Set(tests.flatMap((t) => t.split(/[^\w]+/)));
    expect([...names].filter((name) => !mentioned.has(name))).toEqual([]);
    // Each burn-rate window has a scenario in which it fires and one in which only its long window is hot.
    expect(tests.filter((t) => t.startsWith(`${BURN_RATE_ALERT}:`))).toHaveLength(9);
  });

  it("label every alert with its severity, environment and the constitutional hash, and describe it", () => {
    for (const alert of alerts) {
      expect({ alert: alert.alert, labels: alert.labels }).toEqual({
        alert: alert.alert,
        labels: expect.objectContaining({
          severity: expect.stringMatching(/^(critical|warning|info|none)$/),
          environment: env.name,
          constitutional_hash: CONSTITUTIONAL_HASH,
        }),
      });
      expect(alert.annotations.summary.length).toBeGreaterThan(0);
      expect(alert.annotations.description.length).toBeGreaterThan(0);
    }
  });

  it("raise the SPEC's alerts with the SPEC's severities", () => {
    const severity = (name: string) => [...new Set(alerts.filter((a) => a.alert === name).map((a) => a.labels.severity))];
    expect(severity(ALERTS.complianceViolation)).toEqual(["critical"]);
    expect(alerts.find((a) => a.alert === ALERTS.complianceViolation)!.for).toBeUndefined();
    expect(severity(ALERTS.lowCacheHitRate)).toEqual(["warning"]);
    expect(alerts.find((a) => a.alert === ALERTS.lowCacheHitRate)!.for).toBe("2m");
    expect(severity(ALERTS.serviceDown)).toEqual(["critical"]);
    expect(severity(ALERTS.postgresDown)).toEqual(["critical"]);
    expect(severity(ALERTS.redisDown)).toEqual(["warning"]);
    expect(severity(ALERTS.highLatency)).toEqual(["warning"]);
    expect(severity(ALERTS.deadMansSwitch)).toEqual(["none"]);
    expect(severity(BURN_RATE_ALERT).sort()).toEqual(["critical", "warning"]);
    expect(severity(ALERTS.lowThroughput)).toEqual(env.objectives.expectsLoad ? ["warning"] : []);
  });
});
