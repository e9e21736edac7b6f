// Renders workloads as Docker containers on one network. Replicas become several containers that
// share a network alias (Docker's DNS spreads requests over them); only the first publishes a port.
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { File as LocalFile } from "@cdktf/provider-local/lib/file";
import { LocalProvider } from "@cdktf/provider-local/lib/provider";
import { SensitiveFile } from "@cdktf/provider-local/lib/sensitive-file";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import type { ConfigFile, ImageSource, Platform, WorkloadAddress, WorkloadSpec } from "../workload";

/** cdktf runs Terraform in cdktf.out/stacks/<stack>; the build context is the repository root. */
export const BUILD_CONTEXT_FROM_STACK_DIR = "../../..";
export const SERVICE_DOCKERFILE = "services/Dockerfile";

/** Leaves empty blocks out of the JSON, which keeps plans and snapshots short. */
function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}

export interface DockerPlatformProps {
  /** Environment name, the suffix of every name: acgs-<component>-<environment>. */
  readonly environment: string;
}

export class DockerPlatform extends Construct implements Platform {
  readonly kind = "docker" as const;
  readonly network: Network;
  private readonly environment: string;
  private readonly images = new Map<string, Image>();

  constructor(scope: Construct, id: string, props: DockerPlatformProps) {
    super(scope, id);
    this.environment = props.environment;
    new LocalProvider(this, "local");
    this.network = new Network(this, "network", {
      name: `acgs-${props.environment}`,
      driver: "bridge",
      labels: this.labelList("network"),
    });
  }

  addressOf(component: string, port: number, replicas: number): WorkloadAddress {
    const host = this.nameOf(component);
    const replicaTargets =
      replicas === 1
        ? [`${host}:${port}`]
        : Array.from({ length: replicas }, (_, i) => `${host}-${i + 1}:${port}`);
    return { component, host, port, replicaTargets };
  }

  deploy(spec: WorkloadSpec): WorkloadAddress {
    const address = this.addressOf(spec.component, spec.port, spec.replicas);
    const image = this.imageFor(spec.image);
    const volumes = (spec.volumes ?? []).map(
      (v) =>
        new Volume(this, `${spec.component}-volume-${v.name}`, {
          name: `acgs-${v.name}-${this.environment}`,
          labels: this.labelList(spec.component),
        }),
    );
    const env = Object.entries({ ...spec.env, ...spec.secretEnv })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${value}`);

    const files = (spec.files ?? []).map((f) => this.shipFile(spec.component, f));

    address.replicaTargets.forEach((target, index) => {
      const name = target.slice(0, target.lastIndexOf(":"));
      new Container(this, spec.replicas === 1 ? spec.component : `${spec.component}-${index + 1}`, {
        name,
        hostname: name,
        image: image.imageId,
        command: spec.command ? [...spec.command] : undefined,
        env,
        user: spec.user,
        readOnly: true,
        tmpfs: Object.fromEntries(spec.scratchPaths.map((p) => [p, "rw,noexec,nosuid,size=64m"])),
        memory: spec.memoryMb,
        cpus: String(spec.cpus),
        capabilities: { drop: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        restart: "unless-stopped",
        mustRun: true,
        // Replicas share the alias, so other containers reach any of them by the component's host name.
        networksAdvanced: [{ name: this.network.name, aliases: [address.host] }],
        ports: index === 0 ? [{ internal: spec.port, external: spec.publishedPort, ip: "127.0.0.1" }] : undefined,
        healthcheck: spec.healthCheck && {
          test: ["CMD", ...spec.healthCheck.command],
          interval: `${spec.healthCheck.intervalSeconds}s`,
          timeout: `${spec.healthCheck.timeoutSeconds}s`,
          retries: spec.healthCheck.retries,
          startPeriod: `${spec.healthCheck.startPeriodSeconds}s`,
        },
        volumes: nonEmpty([
          ...volumes.map((volume, i) => ({ volumeName: volume.name, containerPath: spec.volumes![i].mountPath })),
          ...(spec.hostMounts ?? []).map((m) => ({ hostPath: m.hostPath, containerPath: m.mountPath, readOnly: true })),
          ...files,
        ]),
        host: nonEmpty((spec.hostAliases ?? []).map((host) => ({ host, ip: "host-gateway" }))),
        labels: this.labelList(spec.component),
      });
    });
    return address;
  }

  /**
   * Writes a configuration file next to the stack's state and mounts it read-only. The provider's
   * `upload` cannot be used: the engine refuses to write into a read-only root file system.
   */
  private shipFile(component: string, file: ConfigFile): { hostPath: string; containerPath: string; readOnly: boolean } {
    const id = `${component}-file${file.path.replace(/[^a-z0-9]+/gi, "-")}`;
    // Relative to the stack's working directory (cdktf.out/stacks/<stack>): no machine path in the plan.
    const filename = `files/${component}${file.path}`;
    // Readable by the container's own user, which is not the workstation's; a secret's file is a
    // sensitive resource, so its content stays out of plans and logs.
    const written = file.secret
      ? new SensitiveFile(this, id, { filename, content: file.content, filePermission: "0644", directoryPermission: "0755" })
      : new LocalFile(this, id, { filename, content: file.content, filePermission: "0644", directoryPermission: "0755" });
    return { hostPath: Fn.abspath(written.filename), containerPath: file.path, readOnly: true };
  }

  private nameOf(component: string): string {
    return `acgs-${component}-${this.environment}`;
  }

  private labels(component: string): Record<string, string> {
    return {
      constitutional_hash: CONSTITUTIONAL_HASH,
      "acgs.environment": this.environment,
      "acgs.component": component,
    };
  }

  private labelList(component: string): { label: string; value: string }[] {
    return Object.entries(this.labels(component)).map(([label, value]) => ({ label, value }));
  }

  private imageFor(source: ImageSource): Image {
    const key = source.kind === "build" ? `build-${source.service}` : source.ref;
    const existing = this.images.get(key);
    if (existing) return existing;
    const image =
      source.kind === "build"
        ? new Image(this, `image-${source.service}`, {
            name: `acgs/${source.service}:${source.sourceHash.slice(0, 12)}`,
            keepLocally: true,
            buildAttribute: {
              context: BUILD_CONTEXT_FROM_STACK_DIR,
              dockerfile: SERVICE_DOCKERFILE,
              buildArgs: { SERVICE: source.service },
              target: "runtime",
              label: this.labels(source.service),
            },
            // A change to the service's sources changes the hash, which rebuilds the image.
            triggers: { source_hash: source.sourceHash },
          })
        : new Image(this, `image-${source.ref.replace(/[^a-z0-9]+/gi, "-")}`, { name: source.ref, keepLocally: true });
    this.images.set(key, image);
    return image;
  }
}
