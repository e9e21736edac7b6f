// The alerts of SPEC §5, thresholds from env.objectives. Each carries severity, environment and the
// constitutional hash, and a service label so that Alertmanager groups and inhibits per service.
// Annotations use only $labels (no $value): promtool's unit tests compare them exactly.
import type { Environment } from "../environments";
import { CONSTITUTIONAL_HASH } from "../services/catalog";
import { DEAD_MANS_SWITCH_ALERT } from "./alertmanager-config";
import { EXPORTER_JOBS, milliseconds, num, percent, ratioByService, SERVICE_JOBS, SERVICE_METRICS as M } from "./promql";
import { RECORDED } from "./recording-rules";
import type { AlertingRule, RuleGroup, Severity } from "./rule-types";

export const ALERTS = {
  highLatency: "ACGS_HighLatency",
  lowCacheHitRate: "ACGS_LowCacheHitRate",
  complianceViolation: "ACGS_ConstitutionalComplianceViolation",
  lowThroughput: "ACGS_LowThroughput",
  serviceDown: "ACGS_ServiceDown",
  serviceInstanceDown: "ACGS_ServiceInstanceDown",
  postgresDown: "ACGS_PostgreSQLDown",
  redisDown: "ACGS_RedisDown",
  exporterDown: "ACGS_ExporterDown",
  deadMansSwitch: DEAD_MANS_SWITCH_ALERT,
} as const;

/** Label of alerts about the platform as a whole rather than one service. */
export const PLATFORM_SERVICE_LABEL = "platform";

/** `up` of the services' scrape targets, with the service named like the services' own metrics. */
const serviceUp = `label_replace(up{${SERVICE_JOBS}}, "service", "$1", "job", "(.+)")`;

export function renderAlertRules(env: Environment): RuleGroup {
  const { objectives } = env;
  const alert = (
    name: string,
    severity: Severity,
    expr: string,
    forDuration: string | undefined,
    annotations: AlertingRule["annotations"],
    extraLabels: Record<string, string> = {},
  ): AlertingRule => ({
    alert: name,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    labels: { severity, constitutional_hash: CONSTITUTIONAL_HASH, environment: env.name, ...extraLabels },
    annotations,
  });

  const rules: AlertingRule[] = [
    alert(ALERTS.serviceDown, "critical", `max by (service) (${serviceUp}) == 0`, "1m", {
      summary: "{{ $labels.service }} is down",
      description: `No replica of {{ $labels.service }} in ${env.name} has answered Prometheus' scrape for a minute.`,
    }),
    alert(ALERTS.serviceInstanceDown, "warning", `${serviceUp} == 0`, "3m", {
      summary: "A replica of {{ $labels.service }} is down",
      description: `{{ $labels.instance }} of {{ $labels.service }} in ${env.name} has not answered Prometheus' scrape for 3 minutes.`,
    }),
    alert(ALERTS.highLatency, "warning", `${RECORDED.latencyP99} > ${num(objectives.latencyP99Seconds)}`, "5m", {
      summary: `{{ $labels.service }} P99 latency is above ${milliseconds(objectives.latencyP99Seconds)}`,
      description: `The 99th percentile of {{ $labels.service }}'s request duration in ${env.name} has been above the ${milliseconds(objectives.latencyP99Seconds)} objective for 5 minutes.`,
    }),
    alert(ALERTS.lowCacheHitRate, "warning", `${RECORDED.cacheHitRatio} < ${num(objectives.cacheHitRatio)}`, "2m", {
      summary: `{{ $labels.service }} cache hit ratio is below ${percent(objectives.cacheHitRatio)}`,
      description: `Fewer than ${percent(objectives.cacheHitRatio)} of {{ $labels.service }}'s cache lookups in ${env.name} have hit over the last 5 minutes, for 2 minutes.`,
    }),
    // Fires on the first evaluation that sees a failure (the 5-minute ratio drops below the objective).
    // It reads the counters, not the recorded ratio, so it never waits for the recording group.
    alert(ALERTS.complianceViolation, "critical", `${ratioByService(M.complianceSuccess, M.compliance, "5m")} < ${num(objectives.complianceRatio)}`, undefined, {
      summary: "{{ $labels.service }} refused a request made under another constitution",
      description: `{{ $labels.service }} in ${env.name} counted constitutional compliance failures in the last 5 minutes (compliance below the ${percent(objectives.complianceRatio)} objective): a request carried a constitutional hash other than ${CONSTITUTIONAL_HASH}.`,
    }),
    alert(ALERTS.postgresDown, "critical", "pg_up == 0", "1m", {
      summary: "PostgreSQL is down",
      description: `The PostgreSQL exporter in ${env.name} cannot reach PostgreSQL: writes answer 503 and readiness fails.`,
    }, { service: "postgres" }),
    // Services keep answering without Redis (the cache is bypassed): degraded, not down.
    alert(ALERTS.redisDown, "warning", "redis_up == 0", "1m", {
      summary: "Redis is down",
      description: `The Redis exporter in ${env.name} cannot reach Redis: services bypass the cache, so latency and cache hit ratio suffer.`,
    }, { service: "redis" }),
    alert(ALERTS.exporterDown, "warning", `label_replace(up{job=~"${EXPORTER_JOBS.join("|")}"}, "service", "$1", "job", "(.+)") == 0`, "5m", {
      summary: "{{ $labels.service }} is down",
      description: `Prometheus in ${env.name} has not scraped {{ $labels.instance }} for 5 minutes: the host, PostgreSQL or Redis is unwatched.`,
    }),
  ];
  if (objectives.expectsLoad) {
    rules.push(
      alert(
        ALERTS.lowThroughput,
        "warning",
        // `or vector(0)`: no traffic at all is the lowest throughput, not an absent one.
        `(sum(${RECORDED.requestRate}) or vector(0)) < ${num(objectives.minRequestsPerSecond)}`,
        "10m",
        {
          summary: `ACGS serves fewer than ${num(objectives.minRequestsPerSecond)} requests per second`,
          description: `The services of ${env.name} together have served fewer than ${num(objectives.minRequestsPerSecond)} API requests per second for 10 minutes, in an environment that expects load.`,
        },
        { service: PLATFORM_SERVICE_LABEL },
      ),
    );
  }
  rules.push(
    alert(ALERTS.deadMansSwitch, "none", "vector(1)", undefined, {
      summary: "The alerting pipeline is alive",
      description: `Always firing, so the receiver of ${env.name}'s dead-man's switch raises an alarm when it stops arriving (Prometheus, Alertmanager or the route between them is broken).`,
    }, { service: PLATFORM_SERVICE_LABEL }),
  );
  return { name: "acgs-alerts", rules };
}
