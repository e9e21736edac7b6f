import { Password } from "@cdktf/provider-random/lib/password";
import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface RedisCacheProps {
  readonly platform: Platform;
  readonly env: Environment;
}

/** Redis 7 with append-only persistence and a password Terraform generates. */
export class RedisCache extends Construct {
  static readonly PORT = 6379;
  readonly address: WorkloadAddress;
  /** Token reference to the generated password; never a literal. */
  readonly password: string;

  constructor(scope: Construct, id: string, { platform, env }: RedisCacheProps) {
    super(scope, id);
    this.password = new Password(this, "password", { length: 32, special: false }).result;
    this.address = platform.deploy({
      component: "redis",
      image: { kind: "registry", ref: IMAGES.redis },
      port: RedisCache.PORT,
      publishedPort: env.redis.port,
      replicas: 1,
      // The password comes from the environment, so it is not on the command line (docker inspect, ps).
      command: ["sh", "-c", 'exec redis-server --appendonly yes --dir /data --requirepass "$REDIS_PASSWORD"'],
      env: {},
      secretEnv: { REDIS_PASSWORD: this.password, REDISCLI_AUTH: this.password },
      healthCheck: {
        command: ["redis-cli", "-h", "127.0.0.1", "ping"],
        intervalSeconds: 10,
        timeoutSeconds: 3,
        retries: 5,
        startPeriodSeconds: 10,
      },
      memoryMb: 512,
      cpus: 0.5,
      user: "999:1000", // redis in the Alpine image
      scratchPaths: ["/tmp"],
      volumes: [{ name: "redis-data", mountPath: "/data" }],
    });
  }

  get url(): string {
    return `redis://:${this.password}@${this.address.host}:${this.address.port}`;
  }
}
