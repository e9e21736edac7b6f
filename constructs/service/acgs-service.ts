import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { serviceUrlVariable, type ServiceDefinition, type ServiceName } from "../../services/catalog";
import type { PostgresDatabase } from "../data/postgres-database";
import type { RedisCache } from "../data/redis-cache";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface AcgsServiceProps {
  readonly platform: Platform;
  readonly env: Environment;
  readonly definition: ServiceDefinition;
  /** Content hash of the service's sources (serviceSourceHasher). */
  readonly sourceHash: string;
  readonly database: PostgresDatabase;
  readonly cache: RedisCache;
  /** Where every service is reached, for the ones this service calls. */
  readonly peers: ReadonlyMap<ServiceName, WorkloadAddress>;
}

/** One ACGS service: its image built from services/Dockerfile, configured for the environment. */
export class AcgsService extends Construct {
  readonly address: WorkloadAddress;

  constructor(scope: Construct, id: string, props: AcgsServiceProps) {
    super(scope, id);
    const { platform, env, definition, database, cache, peers } = props;
    const settings = env.services[definition.name];
    const calls = Object.fromEntries(
      definition.calls.map((peer) => {
        const address = peers.get(peer);
        if (!address) throw new Error(`environment "${env.name}": service "${definition.name}" calls "${peer}", which is not deployed`);
        return [serviceUrlVariable(peer), `http://${address.host}:${address.port}`];
      }),
    );
    // Every service verifies tokens offline against the keys auth publishes.
    const auth = peers.get("auth");
    if (!auth) throw new Error(`environment "${env.name}": service "${definition.name}" needs auth's JWKS, and auth is not deployed`);
    this.address = platform.deploy({
      component: definition.name,
      image: { kind: "build", service: definition.name, sourceHash: props.sourceHash },
      port: settings.port,
      publishedPort: settings.port,
      replicas: settings.replicas,
      env: {
        PORT: String(settings.port),
        ACGS_ENVIRONMENT: env.name,
        HASH_STRICT: String(env.hashStrict),
        AUTH_REQUIRED: String(env.authRequired),
        BODY_LIMIT_BYTES: String(env.limits.bodyBytes),
        RATE_LIMIT_PER_MINUTE: String(env.limits.rateLimitPerMinute),
        RATE_LIMIT_BURST: String(env.limits.rateLimitBurst),
        LOG_LEVEL: "info",
        AUTH_JWKS_URL: `http://${auth.host}:${auth.port}/.well-known/jwks.json`,
        ...calls,
      },
      secretEnv: {
        ...(definition.postgres ? { DATABASE_URL: database.url } : {}),
        ...(definition.redis ? { REDIS_URL: cache.url } : {}),
      },
      healthCheck: {
        // The image has no curl; the check is a few lines of Node (services/healthcheck.mjs).
        command: ["node", "/app/healthcheck.mjs"],
        intervalSeconds: 10,
        timeoutSeconds: 3,
        retries: 3,
        startPeriodSeconds: 15,
      },
      memoryMb: settings.memoryMb,
      cpus: settings.cpus,
      user: "1000:1000", // node in node:20-bookworm-slim
      scratchPaths: ["/tmp"],
    });
  }
}
