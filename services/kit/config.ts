// A service's configuration, read from environment variables and validated once at start, so a
// bad deployment fails immediately with a message naming the variable instead of misbehaving later.
import { z } from "zod";
import { serviceDefinition, serviceUrlVariable, type ServiceDefinition, type ServiceName } from "../catalog";

export const ACGS_ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type AcgsEnvironment = (typeof ACGS_ENVIRONMENTS)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServiceConfig {
  readonly service: ServiceDefinition;
  readonly port: number;
  readonly environment: AcgsEnvironment;
  /** A request under /api/ without the constitutional hash header is refused. */
  readonly hashStrict: boolean;
  /** Mutating /api/ routes with requireLevel need a valid bearer token. */
  readonly authRequired: boolean;
  /** Auth's published signing keys, which tokens are verified against offline. */
  readonly authJwksUrl: string;
  /** Absent: embedded PGlite. */
  readonly databaseUrl?: string;
  /** Where PGlite keeps its files; absent: in memory. */
  readonly pgliteDataDir?: string;
  /** Absent: in-process cache. */
  readonly redisUrl?: string;
  readonly bodyLimitBytes: number;
  /** 0 turns the rate limiter off (load tests from one client). */
  readonly rateLimitPerMinute: number;
  readonly rateLimitBurst: number;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** Base URL (no trailing slash) of each service this one calls. */
  readonly serviceUrls: Readonly<Partial<Record<ServiceName, string>>>;
}

export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** A configuration refused at start; the message names the service and every bad variable. */
export class ServiceConfigError extends Error {
  constructor(
    readonly serviceName: string,
    readonly problems: readonly { variable: string; message: string }[],
  ) {
    super(
      `invalid configuration of service "${serviceName}": ` +
        problems.map((p) => `${p.variable}: ${p.message}`).join("; "),
    );
    this.name = "ServiceConfigError";
  }
}

function integer(message: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .regex(/^\d+$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
}

const flag = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true");

function url(protocols: readonly string[]) {
  const message = `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`;
  return z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, message);
}

function schemaFor(service: ServiceDefinition) {
  const calls = Object.fromEntries(
    service.calls.map((name) => [
      serviceUrlVariable(name),
      url(["http:", "https:"])
        .transform((u) => u.replace(/\/+$/, ""))
        .default(`http://127.0.0.1:${serviceDefinition(name).devPort}`),
    ]),
  );
  return z.object({
    PORT: integer("must be an integer port between 1 and 65535", 1, 65535).default(service.devPort),
    ACGS_ENVIRONMENT: z.enum(ACGS_ENVIRONMENTS, { error: "must be one of dev, staging, production" }).default("dev"),
    HASH_STRICT: flag.default(false),
    AUTH_REQUIRED: flag.default(false),
    // Where auth publishes its token signing keys; default: auth's dev port on this machine.
    AUTH_JWKS_URL: url(["http:", "https:"]).default("http://127.0.0.1:8000/.well-known/jwks.json"),
    DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
    PGLITE_DATA_DIR: z.string().optional(),
    REDIS_URL: url(["redis:", "rediss:"]).optional(),
    BODY_LIMIT_BYTES: integer("must be a positive integer (bytes)", 1).default(1048576),
    RATE_LIMIT_PER_MINUTE: integer("must be a non-negative integer (0 turns rate limiting off)", 0).default(1000),
    RATE_LIMIT_BURST: integer("must be a positive integer", 1).default(200),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: "must be one of debug, info, warn, error" }).default("info"),
    SHUTDOWN_TIMEOUT_MS: integer("must be a non-negative integer (milliseconds)", 0).default(10000),
    ...calls,
  });
}

/**
 * The configuration of `service` from `env` (default process.env). Throws ServiceConfigError.
 * An empty variable counts as unset: orchestrators often template absent values as "".
 */
export function loadConfig(service: ServiceName | ServiceDefinition, env: EnvironmentVariables = process.env): ServiceConfig {
  const definition = typeof service === "string" ? serviceDefinition(service) : service;
  const schema = schemaFor(definition);
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ServiceConfigError(
      definition.name,
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), message: issue.message })),
    );
  }
  const v = parsed.data as z.output<ReturnType<typeof schemaFor>> & Record<string, unknown>;
  const serviceUrls: Partial<Record<ServiceName, string>> = {};
  for (const name of definition.calls) serviceUrls[name] = v[serviceUrlVariable(name)] as string;
  return {
    service: definition,
    port: v.PORT,
    environment: v.ACGS_ENVIRONMENT,
    hashStrict: v.HASH_STRICT,
    authRequired: v.AUTH_REQUIRED,
    authJwksUrl: v.AUTH_JWKS_URL,
    databaseUrl: v.DATABASE_URL,
    pgliteDataDir: v.PGLITE_DATA_DIR,
    redisUrl: v.REDIS_URL,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: v.RATE_LIMIT_BURST,
    logLevel: v.LOG_LEVEL,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    serviceUrls,
  };
}
