// Where each alert goes, asked of the real Alertmanager routing code (amtool config routes test) on
// every environment's alertmanager.yml: each severity reaches the receiver SPEC §4 names for the
// environment, the dead-man's switch its own receiver, and nothing critical in production is left
// on the default route.
import { join } from "node:path";
import { parse } from "yaml";
import { ENVIRONMENTS, type Environment, type Receiver } from "../../environments";
import { alertmanagerYaml, DEAD_MANS_SWITCH_ALERT } from "../../monitoring/alertmanager-config";
import { renderRuleFiles } from "../../monitoring/rule-files";
import { isAlertingRule } from "../../monitoring/rule-types";
import { AMTOOL, run, tempDir, writeFiles } from "./tools";

/** SPEC §4 "alert receivers": the kinds of receiver each severity may reach, per environment. */
const SPEC_RECEIVERS: Record<Environment["name"], Record<"critical" | "warning", Receiver["kind"][]>> = {
  dev: { critical: ["webhook", "none"], warning: ["webhook", "none"] },
  staging: { critical: ["chat"], warning: ["chat"] },
  production: { critical: ["pager"], warning: ["chat"] },
};

const envs = Object.values(ENVIRONMENTS);
const temp = tempDir("routes");
afterAll(() => temp.cleanup());

/** The receivers Alertmanager picks for an alert with these labels. */
async function route(env: Environment, labels: Record<string, string>): Promise<string[]> {
  const config = join(temp.dir, `${env.name}.yml`);
  const result = await run(AMTOOL, [
    "config",
    "routes",
    "test",
    `--config.file=${config}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  if (result.code !== 0) throw new Error(result.report);
  return result.stdout.trim().split(",").map((r) => r.trim());
}

describe.each(envs)("alert routes of $name", (env) => {
  const alerts = Object.values(renderRuleFiles(env))
    .flatMap((f) => f.groups.flatMap((g) => g.rules))
    .filter(isAlertingRule);
  const kindOf = (name: string) => env.alerting.receivers.find((r) => r.name === name)?.kind;

  beforeAll(() => writeFiles(temp.dir, { [`${env.name}.yml`]: alertmanagerYaml(env) }));

  it.each(["critical", "warning"] as const)("sends every %s alert to the receiver the SPEC names", async (severity) => {
    const ofSeverity = alerts.filter((a) => a.labels.severity === severity);
    expect(ofSeverity.length).toBeGreaterThan(0);
    const routed = await Promise.all(
      ofSeverity.map(async (a) => {
        const receivers = await route(env, { alertname: a.alert, service: "auth", ...a.labels });
        return { alert: a.alert, kinds: receivers.map(kindOf) };
      }),
    );
    for (const { alert, kinds } of routed) {
      // Exactly one receiver, of a kind the SPEC allows for this severity here.
      expect({ alert, kinds, allowed: kinds.length === 1 && SPEC_RECEIVERS[env.name][severity].includes(kinds[0]!) }).toEqual({
        alert,
        kinds,
        allowed: true,
      });
    }
  });

  it("sends the dead-man's switch to its own receiver, and only there", async () => {
    const dms = alerts.find((a) => a.alert === DEAD_MANS_SWITCH_ALERT)!;
    expect(await route(env, { alertname: dms.alert, ...dms.labels })).toEqual([env.alerting.deadMansSwitchReceiver]);
  });

  it("routes a critical alert it has never heard of by its severity, not to the default receiver", async () => {
    const receivers = await route(env, { alertname: "ACGS_SomethingNew", severity: "critical" });
    expect(SPEC_RECEIVERS[env.name].critical).toContain(kindOf(receivers[0]));
  });

  it("inhibits a service's warnings while the same service has a critical alert", () => {
    const config = parse(alertmanagerYaml(env));
    expect(config.inhibit_rules).toEqual([
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["service", "environment"] },
    ]);
    expect(config.route.group_by).toEqual(["alertname", "service", "environment"]);
    // Every alert that can be inhibited carries the labels the inhibition compares.
    for (const a of alerts.filter((x) => x.labels.severity === "warning")) {
      expect({ alert: a.alert, environment: a.labels.environment }).toEqual({ alert: a.alert, environment: env.name });
    }
  });
});

describe("production", () => {
  const env = ENVIRONMENTS.production;
  beforeAll(() => writeFiles(temp.dir, { [`${env.name}.yml`]: alertmanagerYaml(env) }));
  it("pages for every critical alert, whatever its other labels", async () => {
    const critical = Object.values(renderRuleFiles(env))
      .flatMap((f) => f.groups.flatMap((g) => g.rules))
      .filter(isAlertingRule)
      .filter((a) => a.labels.severity === "critical");
    for (const labels of <Record<string, string>[]>[
      ...critical.map((a) => ({ alertname: a.alert, ...a.labels })),
      { alertname: "ACGS_Unknown", severity: "critical", environment: "elsewhere" },
      { alertname: "ACGS_Unknown", severity: "critical" },
    ]) {
      expect({ labels, receivers: await route(env, labels) }).toEqual({ labels, receivers: ["pager"] });
    }
  });

  it("keeps the dead-man's switch off the pager that pages people", async () => {
    expect(await route(env, { alertname: DEAD_MANS_SWITCH_ALERT, severity: "none" })).toEqual(["deadmans-switch"]);
  });
});
