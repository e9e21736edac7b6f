// The typed, validated configuration of one environment. A bad value stops the synth with a
// message naming the environment and the field path (ConfigurationError).
import { z } from "zod";
import { SERVICE_NAMES, SERVICES, type ServiceName } from "../services/catalog";

export const ENVIRONMENT_NAMES = ["dev", "staging", "production"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

const port = z.number().int().min(1, "must be a port between 1 and 65535").max(65535, "must be a port between 1 and 65535");
const replicas = z.number().int().min(1, "must be at least 1");
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as "15s" or "5m"');
const ratio = z.number().gt(0, "must be above 0").max(1, "must be at most 1");

const serviceSettings = z.strictObject({
  port,
  replicas,
  /** Memory limit of one replica, in MiB. */
  memoryMb: z.number().int().min(64, "must be at least 64 (MiB)"),
  /** CPU limit of one replica, in cores. */
  cpus: z.number().gt(0, "must be above 0"),
});

const autoscaling = z
  .strictObject({
    minReplicas: replicas,
    maxReplicas: replicas,
    targetCpuPercent: z.number().int().min(10).max(100),
  })
  .refine((a) => a.maxReplicas >= a.minReplicas, {
    message: "maxReplicas must not be below minReplicas",
    path: ["maxReplicas"],
  });

const receiver = z.discriminatedUnion("kind", [
  /** Drops alerts (a dev machine with nobody listening). */
  z.strictObject({ name: z.string().min(1), kind: z.literal("none") }),
  /** A webhook whose URL is not a secret (a local receiver on a workstation). */
  z.strictObject({ name: z.string().min(1), kind: z.literal("webhook"), url: z.url() }),
  /** A chat webhook (Slack-compatible); its URL comes from a sensitive Terraform variable. */
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal("chat"),
    channel: z.string().min(1),
    secretVariable: z.string().regex(/^[a-z][a-z0-9_]*$/, "must be a Terraform variable name"),
  }),
  /** A pager (PagerDuty Events v2); its routing key comes from a sensitive Terraform variable. */
  z.strictObject({
    name: z.string().min(1),
    kind: z.literal("pager"),
    secretVariable: z.string().regex(/^[a-z][a-z0-9_]*$/, "must be a Terraform variable name"),
  }),
]);

const route = z.strictObject({
  severity: z.enum(["critical", "warning", "info"]),
  receiver: z.string().min(1),
});

const stateBackend = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("local"),
    path: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:/.test(p), "must be a relative path (synth output must not depend on the machine)"),
  }),
  /** S3 with partial configuration: bucket, region and credentials come from `terraform init -backend-config` (TF_CLI_ARGS_init). */
  z.strictObject({ kind: z.literal("s3"), key: z.string().min(1) }),
]);

const servicesShape = Object.fromEntries(SERVICE_NAMES.map((n) => [n, serviceSettings])) as Record<
  ServiceName,
  typeof serviceSettings
>;

export const environmentSchema = z
  .strictObject({
    name: z.enum(ENVIRONMENT_NAMES),
    platform: z.enum(["docker", "kubernetes"]),
    /** A request under /api/ without the constitutional hash header is refused. */
    hashStrict: z.boolean(),
    /** Mutating /api/ routes need a bearer token. */
    authRequired: z.boolean(),
    services: z.strictObject(servicesShape),
    autoscaling: autoscaling.nullable(),
    limits: z.strictObject({
      bodyBytes: z.number().int().min(1024, "must be at least 1024 bytes"),
      rateLimitPerMinute: z.number().int().min(1),
      rateLimitBurst: z.number().int().min(1),
    }),
    postgres: z.strictObject({ port, version: z.literal("15"), database: z.string().min(1), user: z.string().min(1) }),
    redis: z.strictObject({ port, version: z.literal("7") }),
    monitoring: z.strictObject({
      prometheusPort: port,
      alertmanagerPort: port,
      grafanaPort: port,
      nodeExporterPort: port,
      postgresExporterPort: port,
      redisExporterPort: port,
      scrapeInterval: duration,
      evaluationInterval: duration,
      retention: duration,
    }),
    objectives: z.strictObject({
      latencyP99Seconds: z.number().gt(0),
      minRequestsPerSecond: z.number().min(0),
      /** Whether this environment carries enough traffic for the throughput alert to mean anything. */
      expectsLoad: z.boolean(),
      cacheHitRatio: ratio,
      complianceRatio: ratio,
      availability: ratio,
    }),
    alerting: z.strictObject({
      receivers: z.array(receiver).min(1, "must define at least one receiver"),
      defaultReceiver: z.string().min(1),
      routes: z.array(route),
      /** Receives the always-firing dead-man's switch alert. */
      deadMansSwitchReceiver: z.string().min(1),
    }),
    stateBackend,
  })
  .superRefine((env, ctx) => {
    // Every port this environment publishes must be unique.
    const seen = new Map<number, string>();
    const claim = (value: number, path: (string | number)[]) => {
      const owner = seen.get(value);
      if (owner) {
        ctx.addIssue({ code: "custom", path, message: `port ${value} is already used by ${owner}` });
      } else {
        seen.set(value, path.join("."));
      }
    };
    for (const s of SERVICES) claim(env.services[s.name].port, ["services", s.name, "port"]);
    claim(env.postgres.port, ["postgres", "port"]);
    claim(env.redis.port, ["redis", "port"]);
    for (const key of Object.keys(env.monitoring) as (keyof typeof env.monitoring)[]) {
      const value = env.monitoring[key];
      if (typeof value === "number") claim(value, ["monitoring", key]);
    }

    // Every receiver a route names must be defined, and defined once.
    const names = new Set<string>();
    env.alerting.receivers.forEach((r, i) => {
      if (names.has(r.name)) {
        ctx.addIssue({ code: "custom", path: ["alerting", "receivers", i, "name"], message: `receiver "${r.name}" is defined twice` });
      }
      names.add(r.name);
    });
    const known = [...names].join(", ");
    const requireReceiver = (name: string, path: (string | number)[]) => {
      if (!names.has(name)) {
        ctx.addIssue({ code: "custom", path, message: `names receiver "${name}", which is not defined (defined: ${known})` });
      }
    };
    requireReceiver(env.alerting.defaultReceiver, ["alerting", "defaultReceiver"]);
    requireReceiver(env.alerting.deadMansSwitchReceiver, ["alerting", "deadMansSwitchReceiver"]);
    env.alerting.routes.forEach((r, i) => requireReceiver(r.receiver, ["alerting", "routes", i, "receiver"]));

    if (env.autoscaling) {
      for (const s of SERVICES) {
        if (env.services[s.name].replicas > env.autoscaling.maxReplicas) {
          ctx.addIssue({
            code: "custom",
            path: ["services", s.name, "replicas"],
            message: `is above autoscaling.maxReplicas (${env.autoscaling.maxReplicas})`,
          });
        }
      }
    }
  });

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type Environment = z.output<typeof environmentSchema>;
export type ServiceSettings = Environment["services"][ServiceName];
export type Receiver = Environment["alerting"]["receivers"][number];

export class ConfigurationError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration of environment "${environment}":\n  ${problems.join("\n  ")}`);
    this.name = "ConfigurationError";
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const where = path.join(".");
    const unknown = issue.keys.map((k) => (where ? `${where}.${k}` : k));
    const what = where === "services" ? `unknown service (known services: ${SERVICE_NAMES.join(", ")})` : "unknown field";
    return `${unknown.join(", ")}: ${what}`;
  }
  return `${path.join(".") || "(root)"}: ${issue.message}`;
}

/** Validates an environment's configuration; throws one ConfigurationError listing every problem. */
export function defineEnvironment(input: EnvironmentInput): Environment {
  const result = environmentSchema.safeParse(input);
  if (!result.success) {
    const name = typeof input?.name === "string" ? input.name : "(unnamed)";
    throw new ConfigurationError(name, result.error.issues.map(describeIssue));
  }
  return result.data;
}
