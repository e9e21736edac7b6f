import { Password } from "@cdktf/provider-random/lib/password";
import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface PostgresDatabaseProps {
  readonly platform: Platform;
  readonly env: Environment;
}

/** PostgreSQL 15 with a named data volume and a password Terraform generates. */
export class PostgresDatabase extends Construct {
  static readonly PORT = 5432;
  readonly address: WorkloadAddress;
  readonly user: string;
  readonly database: string;
  /** Token reference to the generated password; never a literal. */
  readonly password: string;

  constructor(scope: Construct, id: string, { platform, env }: PostgresDatabaseProps) {
    super(scope, id);
    this.user = env.postgres.user;
    this.database = env.postgres.database;
    this.password = new Password(this, "password", { length: 32, special: false }).result;
    this.address = platform.deploy({
      component: "postgres",
      image: { kind: "registry", ref: IMAGES.postgres },
      port: PostgresDatabase.PORT,
      publishedPort: env.postgres.port,
      replicas: 1,
      env: { POSTGRES_USER: this.user, POSTGRES_DB: this.database, PGDATA: "/var/lib/postgresql/data/pgdata" },
      secretEnv: { POSTGRES_PASSWORD: this.password },
      healthCheck: {
        command: ["pg_isready", "-h", "127.0.0.1", "-U", this.user, "-d", this.database],
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 5,
        startPeriodSeconds: 30,
      },
      memoryMb: 1024,
      cpus: 1,
      user: "70:70", // postgres in the Alpine image
      scratchPaths: ["/tmp", "/var/run/postgresql"],
      volumes: [{ name: "postgres-data", mountPath: "/var/lib/postgresql/data" }],
    });
  }

  /** Connection URL for a client inside the platform; carries the password, so treat it as a secret. */
  get url(): string {
    return `postgres://${this.user}:${this.password}@${this.address.host}:${this.address.port}/${this.database}`;
  }
}
