import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Aspects, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { PostgresDatabase } from "../constructs/data/postgres-database";
import { RedisCache } from "../constructs/data/redis-cache";
import { AlertmanagerServer } from "../constructs/monitoring/alertmanager-server";
import { GrafanaServer } from "../constructs/monitoring/grafana-server";
import { MetricsExporters } from "../constructs/monitoring/metrics-exporters";
import { PrometheusServer } from "../constructs/monitoring/prometheus-server";
import { DockerPlatform } from "../constructs/platform/docker/docker-platform";
import type { Platform, WorkloadAddress } from "../constructs/platform/workload";
import { PlatformPolicy } from "../constructs/policy/platform-policy";
import { AcgsService } from "../constructs/service/acgs-service";
import type { Environment } from "../environments";
import { dashboardFiles } from "../monitoring/dashboard-files";
import { ruleFilesYaml } from "../monitoring/rule-files";
import { SERVICES, type ServiceName } from "../services/catalog";

export interface PlatformStackProps {
  readonly env: Environment;
  /** Content hash of a service's sources (serviceSourceHasher over the repository); its change rebuilds the image. */
  readonly sourceHash: (service: ServiceName) => string;
}

/** One environment on its platform: data, the nine services, and monitoring. Named acgs-<env>. */
export class PlatformStack extends TerraformStack {
  readonly platform: Platform;
  readonly services: ReadonlyMap<ServiceName, AcgsService>;
  /**
   * What the stack ships to Prometheus, Alertmanager and Grafana, by path relative to a rendered
   * directory: prometheus.yml, rules/*.yml, alertmanager.yml, dashboards/*.json.
   */
  readonly monitoringFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, { env, sourceHash }: PlatformStackProps) {
    super(scope, `acgs-${env.name}`);
    this.configureBackend(env);
    new RandomProvider(this, "random");

    if (env.platform !== "docker") {
      throw new Error(`environment "${env.name}": platform "${env.platform}" is not implemented yet (only docker)`);
    }
    new DockerProvider(this, "docker");
    const platform = new DockerPlatform(this, "platform", { environment: env.name });
    this.platform = platform;

    const database = new PostgresDatabase(this, "postgres", { platform, env });
    const cache = new RedisCache(this, "redis", { platform, env });

    const peers = new Map<ServiceName, WorkloadAddress>(
      SERVICES.map((s) => [s.name, platform.addressOf(s.name, env.services[s.name].port, env.services[s.name].replicas)]),
    );
    const services = new Map<ServiceName, AcgsService>();
    for (const definition of SERVICES) {
      services.set(
        definition.name,
        new AcgsService(this, definition.name, {
          platform,
          env,
          definition,
          sourceHash: sourceHash(definition.name),
          database,
          cache,
          peers,
        }),
      );
    }
    this.services = services;

    const exporters = new MetricsExporters(this, "exporters", { platform, env, database, cache });
    const alertmanager = new AlertmanagerServer(this, "alertmanager", { platform, env });
    const prometheus = new PrometheusServer(this, "prometheus", {
      platform,
      env,
      alertmanager: alertmanager.address,
      jobs: [
        ...SERVICES.map((s) => ({ job: s.name, targets: services.get(s.name)!.address.replicaTargets })),
        ...exporters.scrapeJobs,
        { job: "alertmanager", targets: alertmanager.address.replicaTargets },
      ],
      ruleFiles: ruleFilesYaml(env),
    });
    const grafana = new GrafanaServer(this, "grafana", {
      platform,
      env,
      prometheus: prometheus.address,
      dashboards: dashboardFiles(env),
    });
    this.monitoringFiles = {
      "prometheus.yml": prometheus.configYaml,
      ...prefixed("rules/", prometheus.ruleFiles),
      "alertmanager.yml": alertmanager.configYaml,
      ...prefixed("dashboards/", grafana.dashboards),
    };

    new TerraformOutput(this, "grafana_admin_password", { value: grafana.adminPassword, sensitive: true });
    new TerraformOutput(this, "service_urls", {
      value: Object.fromEntries(SERVICES.map((s) => [s.name, `http://127.0.0.1:${env.services[s.name].port}`])),
    });

    Aspects.of(this).add(new PlatformPolicy());
  }

  private configureBackend(env: Environment): void {
    configureStateBackend(this, env.stateBackend);
  }
}

function prefixed(prefix: string, files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, content]) => [`${prefix}${name}`, content]));
}

/**
 * The environment's state backend for `stack`. Another stack of the same environment passes a
 * `part` ("grafana"), which keeps its state beside the platform's: terraform.<part>.tfstate.
 */
export function configureStateBackend(stack: TerraformStack, backend: Environment["stateBackend"], part?: string): void {
  const file = (path: string) => (part ? path.replace(/(\.tfstate)?$/, `.${part}.tfstate`) : path);
  switch (backend.kind) {
    case "local":
      // Relative to the stack's directory, so the synthesized JSON holds no machine-specific path.
      new LocalBackend(stack, { path: file(backend.path) });
      return;
    case "s3":
      // Partial configuration: bucket, region and credentials come from `terraform init -backend-config`
      // (TF_CLI_ARGS_init), so moving the state needs no code change.
      new S3Backend(stack, { key: file(backend.key), bucket: "", encrypt: true });
      stack.addOverride("terraform.backend.s3.bucket", undefined);
      return;
  }
}
