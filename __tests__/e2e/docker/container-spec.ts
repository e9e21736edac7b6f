// A docker_container resource of cdk.tf.json as the Engine API's create request, attribute by
// attribute as the Terraform provider sends it, with what this machine changes: host networking
// instead of the stack's bridge network (every host name of the stack points at 127.0.0.1), ports
// moved where the stack's port is taken here, the random_password results, which only Terraform
// knows, replaced by the test's own, and the plan's local files written where the test says.
import { localFileReference, type LocalFileReference } from "./local-files";

/** Attributes this translation understands; any other fails loudly instead of being dropped. */
const KNOWN = new Set([
  "//", "name", "hostname", "image", "command", "env", "user", "read_only", "tmpfs", "memory", "cpus",
  "capabilities", "security_opts", "restart", "must_run", "networks_advanced", "ports", "healthcheck",
  "volumes", "upload", "host", "labels",
]);

/** Where something the stack reaches as host:port answers on this machine's loopback. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly loopbackPort: number;
}

export interface SpecContext {
  /** The image to run (the tag built for the container's docker_image). */
  readonly image: string;
  /** Every host name of the stack, pointed at 127.0.0.1. */
  readonly hostNames: readonly string[];
  readonly endpoints: readonly Endpoint[];
  /** The test's value for ${random_password.<id>.result}. */
  readonly password: (resourceId: string) => string;
  /** Name of a docker_volume resource's volume. */
  readonly volumeName: (resourceId: string) => string;
  /** Writes a local_file (or local_sensitive_file) of the plan as Terraform would; answers its absolute path. */
  readonly localFile: (reference: LocalFileReference) => string;
  /** Added to the stack's labels, to find the test's containers. */
  readonly extraLabels: Readonly<Record<string, string>>;
}

/** "10s", "1m30s", "500ms" as nanoseconds, the Engine API's unit. */
export function durationNs(text: string): number {
  const units: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new Error(`not a duration: "${text}"`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The container's own port: what its service listens on (PORT), else its first published port. */
export function containerPort(container: any): number | undefined {
  const env = (container.env ?? []) as string[];
  const port = env.find((e) => e.startsWith("PORT="))?.slice(5) ?? container.ports?.[0]?.internal;
  return port === undefined ? undefined : Number(port);
}

function rewriteEnv(container: any, context: SpecContext): string[] {
  const own = context.endpoints.find((e) => e.host === container.name);
  return ((container.env ?? []) as string[]).map((entry) => {
    let value = entry.replace(/\$\{random_password\.([\w-]+)\.result\}/g, (_, id: string) => context.password(id));
    for (const e of context.endpoints) {
      value = value.replace(new RegExp(`\\b${escapeRegExp(e.host)}:${e.port}\\b`, "g"), `${e.host}:${e.loopbackPort}`);
    }
    if (own && value === `PORT=${own.port}`) value = `PORT=${own.loopbackPort}`;
    if (value.includes("${")) throw new Error(`container ${container.name}: unresolved reference in ${entry.slice(0, entry.indexOf("="))}`);
    return value;
  });
}

/** A bind mount's source: the path itself, or the file Terraform writes for a local_file it names. */
function hostPath(container: any, volume: any, context: SpecContext): string {
  const where = `container ${container.name}: host path "${volume.host_path}" of ${volume.container_path}`;
  const reference = localFileReference(volume.host_path);
  if (reference) {
    try {
      return context.localFile(reference);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  }
  if (volume.host_path.includes("${")) throw new Error(`${where} is a reference this test does not resolve`);
  return volume.host_path;
}

function mounts(container: any, context: SpecContext): object[] {
  return ((container.volumes ?? []) as any[]).map((v) => {
    if (v.volume_name) {
      const match = /^\$\{docker_volume\.([\w-]+)\.name\}$/.exec(v.volume_name);
      const source = match ? context.volumeName(match[1]) : v.volume_name;
      return { Type: "volume", Source: source, Target: v.container_path, ReadOnly: Boolean(v.read_only) };
    }
    if (v.host_path) return { Type: "bind", Source: hostPath(container, v, context), Target: v.container_path, ReadOnly: Boolean(v.read_only) };
    throw new Error(`container ${container.name}: volume ${JSON.stringify(v)} is neither a named volume nor a host path`);
  });
}

/** The body of POST /containers/create for the resource. */
export function containerCreateBody(container: any, context: SpecContext): Record<string, any> {
  const unknown = Object.keys(container).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`container ${container.name}: attributes ${unknown.join(", ")} are not translated by this test`);
  const hc = container.healthcheck;
  const labels = Object.fromEntries(((container.labels ?? []) as any[]).map((l) => [l.label, l.value]));
  return {
    Image: context.image,
    Hostname: container.hostname,
    Cmd: container.command,
    Env: rewriteEnv(container, context),
    User: container.user,
    Labels: { ...labels, ...context.extraLabels },
    Healthcheck: hc && {
      Test: hc.test,
      Interval: durationNs(hc.interval),
      Timeout: durationNs(hc.timeout),
      Retries: hc.retries,
      StartPeriod: durationNs(hc.start_period ?? "0s"),
    },
    HostConfig: {
      NetworkMode: "host",
      ExtraHosts: [
        ...context.hostNames.map((h) => `${h}:127.0.0.1`),
        // host-gateway is the bridge's gateway, and there is no bridge: on host networking that is 127.0.0.1.
        ...((container.host ?? []) as any[]).map((h) => `${h.host}:${h.ip === "host-gateway" ? "127.0.0.1" : h.ip}`),
      ],
      ReadonlyRootfs: Boolean(container.read_only),
      Tmpfs: container.tmpfs,
      Memory: container.memory ? container.memory * 1024 * 1024 : undefined,
      NanoCpus: container.cpus ? Math.round(Number(container.cpus) * 1e9) : undefined,
      CapDrop: container.capabilities?.drop,
      CapAdd: container.capabilities?.add,
      SecurityOpt: container.security_opts,
      RestartPolicy: container.restart ? { Name: container.restart } : undefined,
      Mounts: mounts(container, context),
    },
  };
}
