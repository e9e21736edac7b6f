// PostgreSQL and Redis for the dev stack's containers, from Debian's packages on loopback (their
// images cannot be pulled here), set up as the stack's own containers would be: the database, user
// and password of the postgres container's POSTGRES_* variables, Redis's REDIS_PASSWORD.
import Redis from "ioredis";
import { Client } from "pg";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startRedis, type RedisServer } from "../../support/redis";
import { containerPort, type Endpoint } from "./container-spec";

export interface DataStandIns {
  /** acgs-postgres-dev:5432 and acgs-redis-dev:6379 as the loopback ports they answer on here. */
  readonly endpoints: readonly Endpoint[];
  stop(): Promise<void>;
}

function containerOf(containers: readonly any[], component: string): any {
  const found = containers.find((c) => (c.labels ?? []).some((l: any) => l.label === "acgs.component" && l.value === component));
  if (!found) throw new Error(`the stack has no ${component} container`);
  return found;
}

function envOf(container: any, resolve: (value: string) => string): Record<string, string> {
  return Object.fromEntries(((container.env ?? []) as string[]).map((e) => [e.slice(0, e.indexOf("=")), resolve(e.slice(e.indexOf("=") + 1))]));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `containers`: every docker_container of the stack; `resolve` replaces ${random_password…} references. */
export async function startDataStandIns(containers: readonly any[], resolve: (value: string) => string): Promise<DataStandIns> {
  const postgresContainer = containerOf(containers, "postgres");
  const redisContainer = containerOf(containers, "redis");
  const pgEnv = envOf(postgresContainer, resolve);
  const redisEnv = envOf(redisContainer, resolve);
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  try {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    const admin = new Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      const password = pgEnv.POSTGRES_PASSWORD.replace(/'/g, "''");
      await admin.query(`CREATE ROLE ${quoteIdent(pgEnv.POSTGRES_USER)} LOGIN PASSWORD '${password}'`);
      await admin.query(`CREATE DATABASE ${quoteIdent(pgEnv.POSTGRES_DB)} OWNER ${quoteIdent(pgEnv.POSTGRES_USER)}`);
    } finally {
      await admin.end();
    }
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await client.config("SET", "requirepass", redisEnv.REDIS_PASSWORD);
    } finally {
      client.disconnect();
    }
  } catch (error) {
    await Promise.all([postgres?.stop(), redis?.stop()]);
    throw error;
  }
  const pg = postgres;
  const cache = redis;
  return {
    endpoints: [
      { host: postgresContainer.name, port: containerPort(postgresContainer) ?? 5432, loopbackPort: pg.port },
      { host: redisContainer.name, port: containerPort(redisContainer) ?? 6379, loopbackPort: cache.port },
    ],
    async stop() {
      await Promise.all([pg.stop(), cache.stop()]);
    },
  };
}
