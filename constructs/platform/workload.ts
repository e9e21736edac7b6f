// The platform-neutral description of one workload (a service, a database, a monitoring server).
// Constructs describe what runs; a Platform (Docker now, Kubernetes later) decides how.
import type { IConstruct } from "constructs";

export type ImageSource =
  /** Built from services/Dockerfile for one service; sourceHash changes whenever its sources do. */
  | { readonly kind: "build"; readonly service: string; readonly sourceHash: string }
  /** Taken from a registry, pinned by tag. */
  | { readonly kind: "registry"; readonly ref: string };

export interface HealthCheck {
  /** Exec form, run inside the container (no shell unless the command asks for one). */
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
}

export interface ConfigFile {
  readonly path: string;
  readonly content: string;
  /** Holds a secret (a token reference at synth time): a Secret on Kubernetes, never a ConfigMap. */
  readonly secret?: boolean;
}

export interface WorkloadSpec {
  /** Component name, unique in the environment: "auth", "postgres", "prometheus". */
  readonly component: string;
  readonly image: ImageSource;
  /** Port the process listens on inside its container. */
  readonly port: number;
  /** Port published to the host (Docker) or exposed by the Service (Kubernetes). */
  readonly publishedPort: number;
  readonly replicas: number;
  readonly command?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Environment values that carry secrets (token references). */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly healthCheck?: HealthCheck;
  readonly memoryMb: number;
  readonly cpus: number;
  /** "uid:gid", never root. */
  readonly user: string;
  /** Writable scratch paths on a read-only root filesystem (tmpfs). */
  readonly scratchPaths: readonly string[];
  /** Persistent data, one named volume per entry. */
  readonly volumes?: readonly { readonly name: string; readonly mountPath: string }[];
  /** Read-only host paths (the node exporter reads the host's /proc and /sys). */
  readonly hostMounts?: readonly { readonly hostPath: string; readonly mountPath: string }[];
  readonly files?: readonly ConfigFile[];
  /** Host names to resolve to the host machine ("host.docker.internal" for a receiver on a workstation). */
  readonly hostAliases?: readonly string[];
}

export interface WorkloadAddress {
  readonly component: string;
  /** Host name other workloads use to reach it (all replicas behind it). */
  readonly host: string;
  readonly port: number;
  /** One "host:port" per replica, for Prometheus to scrape each. */
  readonly replicaTargets: readonly string[];
}

export interface Platform extends IConstruct {
  readonly kind: "docker" | "kubernetes";
  /** Where a component will be reached, known before it is deployed (so configs can name each other). */
  addressOf(component: string, port: number, replicas: number): WorkloadAddress;
  deploy(spec: WorkloadSpec): WorkloadAddress;
}
