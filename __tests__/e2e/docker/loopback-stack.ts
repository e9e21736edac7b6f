// The dev stack laid onto this machine's loopback: every host name of the stack at 127.0.0.1, each
// service on its own port (or a free one when that port is taken here), PostgreSQL and Redis where
// their stand-ins answer, test passwords for what Terraform's random_password would make, and the
// plan's local files written into a directory standing for the stack's working directory.
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { freePort } from "../../support/free-port";
import { containerPort, type Endpoint, type SpecContext } from "./container-spec";
import { imageResourceOf, type DevStack } from "./dev-stack-plan";
import { writeLocalFile } from "./local-files";

/** A fixed password per random_password resource: deterministic, and never a real one. */
export function testPassword(resourceId: string): string {
  return `e2e-${createHash("sha256").update(resourceId).digest("hex").slice(0, 24)}`;
}

export function resolvePasswords(value: string): string {
  return value.replace(/\$\{random_password\.([\w-]+)\.result\}/g, (_, id: string) => testPassword(id));
}

/** True when nothing listens on the port on any address (services bind all of them). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

export interface LoopbackStack {
  /** Where each host:port of the stack answers here; `moved` lists the services not on their own port. */
  readonly endpoints: readonly Endpoint[];
  readonly moved: readonly string[];
  /** `image`: run another image than the container's own (one that cannot be pulled here). */
  contextFor(container: any, image?: string): SpecContext;
}

/** `stackDir`: where the local files are written, as Terraform writes them relative to its working directory. */
export async function loopbackStack(
  stack: DevStack,
  dataEndpoints: readonly Endpoint[],
  extraLabels: Record<string, string>,
  stackDir: string,
): Promise<LoopbackStack> {
  const all = Object.values(stack.resources.docker_container ?? {});
  const hostNames = [...new Set(all.flatMap((c: any) => [c.name, ...(c.networks_advanced ?? []).flatMap((n: any) => n.aliases ?? [])]))].sort();
  const serviceEndpoints: Endpoint[] = [];
  const moved: string[] = [];
  for (const container of stack.containers) {
    const port = containerPort(container);
    if (port === undefined) throw new Error(`container ${container.name}: no PORT and no published port`);
    const loopbackPort = (await portFree(port)) ? port : await freePort();
    if (loopbackPort !== port) moved.push(`${container.name}: ${port} is taken here, runs on ${loopbackPort}`);
    serviceEndpoints.push({ host: container.name, port, loopbackPort });
  }
  const endpoints = [...dataEndpoints, ...serviceEndpoints];
  const tags = new Map(stack.builds.map((b) => [b.resource, b.tag]));
  return {
    endpoints,
    moved,
    contextFor(container: any, otherImage?: string): SpecContext {
      const image = otherImage ?? tags.get(imageResourceOf(container));
      if (!image) throw new Error(`container ${container.name}: its image is not built from this repository`);
      return {
        image,
        hostNames,
        endpoints,
        password: testPassword,
        volumeName: (id) => stack.resources.docker_volume?.[id]?.name ?? id,
        localFile: (reference) => writeLocalFile(stackDir, stack.resources, reference, testPassword),
        extraLabels,
      };
    },
  };
}
