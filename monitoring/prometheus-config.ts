// prometheus.yml for one environment: every service, exporter, Prometheus and Alertmanager scraped.
import type { Environment } from "../environments";
import { CONSTITUTIONAL_HASH } from "../services/catalog";
import { yamlDocument } from "./yaml-document";

export interface ScrapeJob {
  readonly job: string;
  /** "host:port", one per replica. */
  readonly targets: readonly string[];
  /** Extra labels on every series of the job (e.g. the service it belongs to). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PrometheusConfigInput {
  readonly env: Environment;
  readonly jobs: readonly ScrapeJob[];
  /** "host:port" of each Alertmanager. */
  readonly alertmanagers: readonly string[];
  /** Rule file globs; relative ones are resolved against the directory of prometheus.yml. */
  readonly ruleFiles: readonly string[];
}

export function renderPrometheusConfig({ env, jobs, alertmanagers, ruleFiles }: PrometheusConfigInput): object {
  const seen = new Set<string>();
  for (const { job } of jobs) {
    if (seen.has(job)) throw new Error(`environment "${env.name}": scrape job "${job}" is defined twice`);
    seen.add(job);
  }
  return {
    global: {
      scrape_interval: env.monitoring.scrapeInterval,
      evaluation_interval: env.monitoring.evaluationInterval,
      external_labels: { environment: env.name, constitutional_hash: CONSTITUTIONAL_HASH },
    },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...alertmanagers] }] }] },
    rule_files: [...ruleFiles],
    scrape_configs: jobs.map(({ job, targets, labels }) => ({
      job_name: job,
      metrics_path: "/metrics",
      static_configs: [{ targets: [...targets], labels: { environment: env.name, ...labels } }],
    })),
  };
}

export function prometheusYaml(input: PrometheusConfigInput): string {
  return yamlDocument("monitoring/prometheus-config.ts", renderPrometheusConfig(input));
}
