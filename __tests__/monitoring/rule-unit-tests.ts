// promtool unit tests (`promtool test rules`) generated from an environment's objectives: for each
// alert, input series that must make it fire and series that must leave it silent, with thresholds
// taken from the same configuration the rules are generated from.
import type { Environment } from "../../environments";
import { ALERTS, PLATFORM_SERVICE_LABEL } from "../../monitoring/alert-rules";
import { num, PROBE_ROUTES, SERVICE_METRICS as M } from "../../monitoring/promql";
import { renderRuleFiles } from "../../monitoring/rule-files";
import { type AlertingRule, isAlertingRule } from "../../monitoring/rule-types";
import { BURN_RATE_ALERT, BURN_RATE_WINDOWS, type BurnRateWindow, errorBudget } from "../../monitoring/slo-rules";
import type { ServiceName } from "../../services/catalog";
import { REQUEST_DURATION_BUCKETS } from "../../services/kit/metrics";

interface InputSeries {
  series: string;
  values: string;
}

interface ExpectedAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}

export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertRuleTest[];
}

export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval: string;
  /** Recording groups before the alerts that read them (promtool's default order is unspecified). */
  group_eval_order: string[];
  tests: PromtoolTest[];
}

const series = (name: string, labels: Record<string, string>, values: string): InputSeries => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`,
  values,
});

/** A counter growing by `perStep` every step for `steps` steps: "0+<perStep>x<steps>". */
const counter = (perStep: number, steps: number) => `0+${perStep}x${steps}`;

/** Counter segments: [increase per step, steps] pairs, one after the other. */
function segments(...parts: [number, number][]): string {
  let value = 0;
  const out: string[] = [];
  parts.forEach(([perStep, steps], i) => {
    // Each segment after the first starts one step after the previous segment's last sample.
    const start = i === 0 ? value : value + perStep;
    const count = i === 0 ? steps : steps - 1;
    out.push(`${start}+${perStep}x${count}`);
    value = start + perStep * count;
  });
  return out.join(" ");
}

/** The Prometheus target name of a service replica, as the Docker platform names them. */
function targets(env: Environment, service: ServiceName): string[] {
  const { replicas, port } = env.services[service];
  const host = `acgs-${service}-${env.name}`;
  return replicas === 1 ? [`${host}:${port}`] : Array.from({ length: replicas }, (_, i) => `${host}-${i + 1}:${port}`);
}

/**
 * Test files by name, one per sampling step (tests-every-<step>.yml): the burn-rate scenarios that
 * span days are sampled every 10 or 30 minutes, or promtool would take minutes over them.
 */
export function buildRuleTests(env: Environment): Record<string, PromtoolTestFile> {
  const rules = Object.values(renderRuleFiles(env))
    .flatMap((f) => f.groups.flatMap((g) => g.rules))
    .filter(isAlertingRule);
  const ruleOf = (name: string, match: (r: AlertingRule) => boolean = () => true): AlertingRule => {
    const rule = rules.find((r) => r.alert === name && match(r));
    if (!rule) throw new Error(`${env.name}: no alert ${name}`);
    return rule;
  };
  /** The alert as Prometheus will produce it: rule labels over the series' labels, annotations expanded. */
  const expected = (rule: AlertingRule, seriesLabels: Record<string, string>): ExpectedAlert => {
    const labels = { ...seriesLabels, ...rule.labels };
    const expand = (template: string) =>
      template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name as keyof typeof labels] ?? "");
    return {
      exp_labels: labels,
      exp_annotations: { summary: expand(rule.annotations.summary), description: expand(rule.annotations.description) },
    };
  };
  const fires = (eval_time: string, name: string, ...alerts: ExpectedAlert[]): AlertRuleTest => ({
    eval_time,
    alertname: name,
    exp_alerts: alerts,
  });
  const silent = (eval_time: string, name: string): AlertRuleTest => ({ eval_time, alertname: name, exp_alerts: [] });

  const { objectives } = env;
  const tests: PromtoolTest[] = [];
  const api = (service: ServiceName, route: string, status = "200") => ({ service, route, method: "POST", status });

  // --- latency: observations all in one histogram bucket, above or below the objective.
  {
    const rule = ruleOf(ALERTS.highLatency);
    const objective = objectives.latencyP99Seconds;
    const buckets = [...REQUEST_DURATION_BUCKETS];
    // Slow: the first bucket that lies wholly above the objective. Fast: the last bucket at or below half of it.
    const slow = buckets.find((b, i) => i > 0 && buckets[i - 1] >= objective);
    const fast = [...buckets].reverse().find((b) => b <= objective / 2);
    if (slow === undefined || fast === undefined) throw new Error(`${env.name}: no bucket around the ${objective}s objective`);
    const histogram = (service: ServiceName, bucket: number, perMinute: number): InputSeries[] => {
      const labels = api(service, "/api/v1/validate");
      return [
        ...[...buckets.map(String), "+Inf"].map((le) =>
          series(`${M.requestDuration}_bucket`, { ...labels, le }, le === "+Inf" || Number(le) >= bucket ? counter(perMinute, 20) : "0x20"),
        ),
        series(`${M.requestDuration}_count`, labels, counter(perMinute, 20)),
        series(M.requests, labels, counter(perMinute, 20)),
      ];
    };
    tests.push({
      name: `${ALERTS.highLatency}: fires after 5m of P99 above ${objective}s, not before`,
      interval: "1m",
      input_series: histogram("auth", slow, 600),
      alert_rule_test: [silent("4m", rule.alert), fires("10m", rule.alert, expected(rule, { service: "auth" }))],
    });
    tests.push({
      name: `${ALERTS.highLatency}: silent while P99 is below ${objective}s`,
      interval: "1m",
      input_series: histogram("auth", fast, 600),
      alert_rule_test: [silent("10m", rule.alert), silent("20m", rule.alert)],
    });
  }

  // --- cache hit ratio below / above the objective.
  {
    const rule = ruleOf(ALERTS.lowCacheHitRate);
    const cache = (hitRatio: number) => [
      series(M.cacheRequests, { service: "constitutional-ai" }, counter(1000, 20)),
      series(M.cacheHits, { service: "constitutional-ai" }, counter(Math.round(1000 * hitRatio), 20)),
    ];
    const low = objectives.cacheHitRatio - 0.1;
    const high = objectives.cacheHitRatio + (1 - objectives.cacheHitRatio) / 2;
    tests.push({
      name: `${ALERTS.lowCacheHitRate}: fires after 2m below ${objectives.cacheHitRatio}, not before`,
      interval: "1m",
      input_series: cache(low),
      alert_rule_test: [silent("2m", rule.alert), fires("5m", rule.alert, expected(rule, { service: "constitutional-ai" }))],
    });
    tests.push({
      name: `${ALERTS.lowCacheHitRate}: silent at ${high}`,
      interval: "1m",
      input_series: cache(high),
      alert_rule_test: [silent("10m", rule.alert)],
    });
  }

  // --- one compliance failure fires at once (objective 100 %); steady compliance stays silent.
  {
    const rule = ruleOf(ALERTS.complianceViolation);
    const perMinute = objectives.complianceRatio === 1 ? 10 : 1000;
    // Enough failures in one minute to drop the 5-minute ratio below the objective.
    const failures = objectives.complianceRatio === 1 ? 1 : Math.ceil((1 - objectives.complianceRatio) * perMinute * 5 * 2);
    const labels = { service: "policy-governance" };
    tests.push({
      name: `${ALERTS.complianceViolation}: fires on the first evaluation that sees ${failures} failure(s), resolves when it leaves the window`,
      interval: "1m",
      input_series: [
        series(M.compliance, labels, counter(perMinute, 20)),
        series(M.complianceSuccess, labels, segments([perMinute, 4], [perMinute - failures, 1], [perMinute, 16])),
      ],
      alert_rule_test: [
        silent("4m", rule.alert),
        fires("5m", rule.alert, expected(rule, labels)),
        silent("11m", rule.alert),
      ],
    });
    tests.push({
      name: `${ALERTS.complianceViolation}: silent while every request is compliant`,
      interval: "1m",
      input_series: [series(M.compliance, labels, counter(perMinute, 20)), series(M.complianceSuccess, labels, counter(perMinute, 20))],
      alert_rule_test: [silent("10m", rule.alert)],
    });
  }

  // --- a service down: every replica, or just one of several.
  {
    const down = ruleOf(ALERTS.serviceDown);
    const instanceDown = ruleOf(ALERTS.serviceInstanceDown);
    const service: ServiceName = "coordinator";
    const instances = targets(env, service);
    const up = (values: (i: number) => string) =>
      instances.map((instance, i) => series("up", { job: service, instance }, values(i)));
    const instanceAlerts = (which: string[]) =>
      which.map((instance) => expected(instanceDown, { job: service, instance, service }));
    tests.push({
      name: `${ALERTS.serviceDown}: fires when all ${instances.length} replica(s) of ${service} stop answering for 1m; ${ALERTS.serviceInstanceDown} for each after 3m`,
      interval: "1m",
      input_series: up(() => "1 1 0x10"),
      alert_rule_test: [
        silent("2m", down.alert),
        fires("4m", down.alert, expected(down, { service })),
        fires("6m", instanceDown.alert, ...instanceAlerts(instances)),
      ],
    });
    tests.push({
      name: `${ALERTS.serviceDown}, ${ALERTS.serviceInstanceDown}: silent while ${service} answers`,
      interval: "1m",
      input_series: up(() => "1x10"),
      alert_rule_test: [silent("10m", down.alert), silent("10m", instanceDown.alert)],
    });
    if (instances.length > 1) {
      tests.push({
        name: `${ALERTS.serviceInstanceDown}: one replica of ${instances.length} down is a warning, not an outage (${ALERTS.serviceDown} silent)`,
        interval: "1m",
        input_series: up((i) => (i === 0 ? "1 1 0x10" : "1x12")),
        alert_rule_test: [silent("6m", down.alert), fires("6m", instanceDown.alert, ...instanceAlerts([instances[0]]))],
      });
    }
  }

  // --- PostgreSQL and Redis down, as their exporters report them; an exporter itself down.
  for (const [alert, metric, job] of [
    [ALERTS.postgresDown, "pg_up", "postgres-exporter"],
    [ALERTS.redisDown, "redis_up", "redis-exporter"],
  ] as const) {
    const rule = ruleOf(alert);
    const labels = { job, instance: `acgs-${job}-${env.name}:${job === "postgres-exporter" ? 9187 : 9121}` };
    tests.push({
      name: `${alert}: fires when ${metric} drops to 0 for 1m`,
      interval: "1m",
      input_series: [series(metric, labels, "1 1 0x10")],
      alert_rule_test: [silent("2m", alert), fires("4m", alert, expected(rule, labels))],
    });
    tests.push({
      name: `${alert}: silent while ${metric} is 1`,
      interval: "1m",
      input_series: [series(metric, labels, "1x10")],
      alert_rule_test: [silent("10m", alert)],
    });
  }
  {
    const rule = ruleOf(ALERTS.exporterDown);
    const labels = { job: "node-exporter", instance: `acgs-node-exporter-${env.name}:9100` };
    tests.push({
      name: `${ALERTS.exporterDown}: fires when an exporter is unreachable for 5m`,
      interval: "1m",
      input_series: [series("up", labels, "0x10"), series("up", { job: "redis-exporter", instance: "r:9121" }, "1x10")],
      alert_rule_test: [silent("3m", rule.alert), fires("6m", rule.alert, expected(rule, { ...labels, service: "node-exporter" }))],
    });
  }

  // --- throughput, only where the environment expects load.
  {
    const traffic = (rps: number) => [series(M.requests, api("coordinator", "/api/v1/coordinate"), counter(rps * 60, 30))];
    if (objectives.expectsLoad) {
      const rule = ruleOf(ALERTS.lowThroughput);
      const min = objectives.minRequestsPerSecond;
      tests.push({
        name: `${ALERTS.lowThroughput}: fires after 10m below ${min} requests/s`,
        interval: "1m",
        input_series: traffic(min / 2),
        alert_rule_test: [silent("8m", rule.alert), fires("15m", rule.alert, expected(rule, {}))],
      });
      tests.push({
        name: `${ALERTS.lowThroughput}: fires when there is no traffic at all`,
        interval: "1m",
        input_series: [series("up", { job: "coordinator", instance: "x" }, "1x30")],
        alert_rule_test: [fires("15m", rule.alert, expected(rule, {}))],
      });
      tests.push({
        name: `${ALERTS.lowThroughput}: silent at ${min * 1.5} requests/s`,
        interval: "1m",
        input_series: traffic(min * 1.5),
        alert_rule_test: [silent("15m", rule.alert)],
      });
    } else {
      tests.push({
        name: `${ALERTS.lowThroughput}: not raised in ${env.name}, which expects no load`,
        interval: "1m",
        input_series: traffic(0),
        alert_rule_test: [silent("15m", ALERTS.lowThroughput)],
      });
    }
  }

  // --- the dead-man's switch fires always, from the first evaluation.
  {
    const rule = ruleOf(ALERTS.deadMansSwitch);
    const alert = expected(rule, {});
    tests.push({
      name: `${ALERTS.deadMansSwitch}: always firing`,
      interval: "1m",
      input_series: [],
      alert_rule_test: [fires("0m", rule.alert, alert), fires("1h", rule.alert, alert)],
    });
    if (rule.labels.service !== PLATFORM_SERVICE_LABEL) throw new Error("dead-man's switch without the platform service label");
  }

  const burn = burnRateTests(env, rules);
  const files = renderRuleFiles(env);
  const ruleFiles = Object.keys(files).map((f) => `rules/${f}`);
  const groups = Object.values(files).flatMap((f) => f.groups);
  const recordingFirst = [
    ...groups.filter((g) => !g.rules.some(isAlertingRule)),
    ...groups.filter((g) => g.rules.some(isAlertingRule)),
  ].map((g) => g.name);
  const file = (evaluation_interval: string, tests: PromtoolTest[]): PromtoolTestFile => ({
    rule_files: ruleFiles,
    evaluation_interval,
    group_eval_order: recordingFirst,
    tests,
  });
  const byStep = new Map<string, PromtoolTest[]>();
  for (const test of [...tests, ...burn]) byStep.set(test.interval, [...(byStep.get(test.interval) ?? []), test]);
  return Object.fromEntries([...byStep].map(([step, stepTests]) => [`tests-every-${step}.yml`, file(step, stepTests)]));
}

/**
 * Error ratio r during [0, errorMinutes), none after (the ratio over a window is the errors' share
 * of the window's requests). Each scenario states which burn-rate windows must fire at `at`;
 * scenarios within 10 % of a threshold are refused, so no expectation hangs on rounding.
 */
function burnRateTests(env: Environment, rules: AlertingRule[]): PromtoolTest[] {
  const budget = errorBudget(env);
  const perMinute = 100_000;
  const service: ServiceName = "integrity";
  const route = "/api/v1/entries";
  const ruleFor = (w: BurnRateWindow) => {
    const rule = rules.find((r) => r.alert === BURN_RATE_ALERT && r.labels.burn_rate === String(w.factor));
    if (!rule) throw new Error(`${env.name}: no burn-rate alert for ${w.factor}x`);
    return rule;
  };
  /** The error ratio over a window at `at`, and whether the window holds enough samples for rate(). */
  const ratioOver = (windowMinutes: number, at: number, errorMinutes: number, r: number, step: number) => {
    const from = Math.max(0, at - windowMinutes);
    const errorsIn = Math.max(0, Math.min(at, errorMinutes) - from);
    return { ratio: (r * errorsIn) / (at - from), sampled: windowMinutes >= 2 * step };
  };
  /** Error ratio r during the first `errorMinutes`, none after; samples every `step` minutes; evaluated at `at`. */
  const scenario = (name: string, r: number, errorMinutes: number, at: number, step: number): PromtoolTest => {
    for (const m of [errorMinutes, at]) if (m % step !== 0) throw new Error(`${name}: ${m}m is not a multiple of the ${step}m step`);
    const perStep = perMinute * step;
    const errors = Math.round(perStep * r);
    const steps = at / step + 1;
    const errorSteps = errorMinutes / step;
    const firing = BURN_RATE_WINDOWS.filter((w) => {
      const threshold = w.factor * budget;
      const ratios = [w.longSeconds, w.shortSeconds].map((s) => ratioOver(s / 60, at, errorMinutes, errors / perStep, step));
      for (const { ratio, sampled } of ratios) {
        // A window with too few samples may or may not yield a rate: only safe far below the threshold.
        if (sampled ? Math.abs(ratio - threshold) < threshold * 0.1 : ratio > threshold * 0.9) {
          throw new Error(`${env.name} "${name}": ratio ${ratio} too close to the ${w.factor}x threshold ${threshold}`);
        }
      }
      return ratios.every(({ ratio, sampled }) => sampled && ratio > threshold);
    });
    const errorValues = errorSteps >= steps ? counter(errors, steps) : segments([errors, errorSteps], [0, steps - errorSteps]);
    const okValues =
      errorSteps >= steps ? counter(perStep - errors, steps) : segments([perStep - errors, errorSteps], [perStep, steps - errorSteps]);
    return {
      name: `${BURN_RATE_ALERT}: ${name} (samples every ${step}m) → ${firing.length ? firing.map((w) => `${w.factor}x`).join(", ") : "none"} firing`,
      interval: `${step}m`,
      input_series: [
        series(M.requests, { service, route, method: "POST", status: "500" }, errorValues),
        series(M.requests, { service, route, method: "POST", status: "200" }, okValues),
        // Failing probes are not API traffic: they must not burn the budget.
        series(M.requests, { service, route: PROBE_ROUTES[1], method: "GET", status: "503" }, counter(perStep, steps)),
      ],
      alert_rule_test: [
        {
          eval_time: `${at}m`,
          alertname: BURN_RATE_ALERT,
          exp_alerts: firing.map((w) => {
            const rule = ruleFor(w);
            const labels = { service, slo: "availability", ...rule.labels };
            const expand = (t: string) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, n: string) => (labels as Record<string, string>)[n]);
            return {
              exp_labels: labels,
              exp_annotations: { summary: expand(rule.annotations.summary), description: expand(rule.annotations.description) },
            };
          }),
        },
      ],
    };
  };

  const tests: PromtoolTest[] = [];
  for (const w of BURN_RATE_WINDOWS) {
    const long = w.longSeconds / 60;
    const short = w.shortSeconds / 60;
    // As coarse as the short window allows (at least two samples in it): promtool's cost is per step.
    const step = [60, 30, 10, 1].find((candidate) => short >= 2 * candidate)!;
    const round = (m: number) => Math.ceil(m / step) * step;
    // Between this window's factor and the next faster one's: this window and the slower ones fire.
    tests.push(scenario(`errors at ${num(w.factor * 1.2)}x the budget for ${long}m`, w.factor * budget * 1.2, round(long + 5), round(long + 5), step));
    // The same burn that stopped longer ago than the short window: the long window alone must not alert.
    const clean = round(short + Math.max(5, short / 10));
    tests.push(scenario(`errors at ${num(w.factor * 1.5)}x for ${long}m, then none for ${clean}m`, w.factor * budget * 1.5, long, long + clean, step));
  }
  // Below the budget, with failing probes on the side: nothing fires even after three days.
  tests.push(scenario("errors at 0.5x the budget for 3 days", budget * 0.5, 3 * 1440 + 60, 3 * 1440 + 60, 60));
  return tests;
}
