// The nine service images built for real from services/Dockerfile, and the dev stack's service
// containers started from the synthesized cdk.tf.json, on a real Docker engine.
// When no engine can be had (no permission, not Linux, another run holds it), the suite is skipped
// and one line says why; ACGS_DOCKER_E2E=off skips it on purpose.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CONSTITUTIONAL_HASH, SERVICE_NAMES, type ServiceName } from "../../../services/catalog";
import { launchContainer, removeContainers, type LaunchedContainer } from "./container-launch";
import { waitHealthy } from "./container-health";
import { startDataStandIns, type DataStandIns } from "./data-stand-ins";
import { synthesizeDevStack, type DevStack, type ImageBuild } from "./dev-stack-plan";
import { docker } from "./docker-cli";
import { engineUnavailableReason, prepareEngine, stopEngine, type DockerEngine } from "./docker-engine";
import { probeDomainRoute } from "./domain-probes";
import { engineCall } from "./engine-api";
import { buildImage } from "./image-build";
import { imageContents, imageSize, listImageFiles, type ImageFiles } from "./image-contents";
import { loopbackStack, resolvePasswords, testPassword, type LoopbackStack } from "./loopback-stack";
import { mountedFiles, parseShownFiles, SHOW_FILES } from "./mounted-files";
import { removeStaleImages } from "./stale-images";
import { releaseSuiteLock, takeSuiteLock } from "./suite-lock";

const ROOT = path.resolve(__dirname, "../../..");
const MIB = 1024 * 1024;
const SUITE = { label: "acgs.e2e", value: "docker-suite" };

function unavailableReason(): string | undefined {
  const reason = engineUnavailableReason();
  if (reason) return reason;
  const holder = takeSuiteLock();
  return holder ? `another run of this suite (pid ${holder}) is using the engine` : undefined;
}

const unavailable = unavailableReason();
if (unavailable) console.warn(`docker e2e: NOT RUN: ${unavailable}`);
const describeWithEngine = unavailable ? describe.skip : describe;

describeWithEngine("the dev stack on a real Docker engine", () => {
  let engine: DockerEngine | undefined;
  let stack: DevStack;
  let base: { sizeBytes: number; files: ImageFiles };
  const report: string[] = [];

  const host = () => engine!.host;
  const buildOf = (service: string): ImageBuild => {
    const build = stack.builds.find((b) => b.service === service);
    if (!build) throw new Error(`the dev stack builds no image for service "${service}"`);
    return build;
  };

  beforeAll(async () => {
    const started = Date.now();
    engine = await prepareEngine();
    report.push(`engine ${engine.host} (${engine.storageDriver ?? "?"}), ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    stack = synthesizeDevStack();
    await removeContainers(engine.host, `${SUITE.label}=${SUITE.value}`);
    if (engine.dockerdPid) {
      // Only in the fixture's own engine: elsewhere acgs/ images may be someone's deployment.
      const stale = await removeStaleImages(engine.host, "acgs/", stack.builds.map((b) => b.tag));
      if (stale.length > 0) report.push(`removed images of earlier sources: ${stale.join(", ")}`);
    }
    const [sizeBytes, files] = await Promise.all([imageSize(engine.host, engine.baseImage), listImageFiles(engine.host, engine.baseImage)]);
    base = { sizeBytes, files };
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      if (engine) await removeContainers(engine.host, `${SUITE.label}=${SUITE.value}`);
    } finally {
      if (engine) await stopEngine(engine);
      releaseSuiteLock();
      console.log(`docker e2e:\n  ${report.join("\n  ")}`);
    }
  }, 120_000);

  describe("images", () => {
    test("the stack builds one image per service of the catalog, from services/Dockerfile at the repository root", () => {
      expect(stack.builds.map((b) => b.service).sort()).toEqual([...SERVICE_NAMES].sort());
      for (const build of stack.builds) {
        expect({ service: build.service, context: build.context, dockerfile: build.dockerfile, target: build.target }).toEqual({
          service: build.service,
          context: ROOT,
          dockerfile: "services/Dockerfile",
          target: "runtime",
        });
      }
    });

    test.each(SERVICE_NAMES)(
      "%s: builds as the provider builds it; under 200 MB over the base, without dev dependencies, source maps or tests",
      async (service) => {
        const build = buildOf(service);
        const { seconds } = await buildImage(host(), build);
        const contents = await imageContents(host(), build.tag, base);
        const config = (await engineCall(host(), "GET", `/images/${encodeURIComponent(build.tag)}/json`)).json().Config;
        report.push(
          `image ${build.tag}: ${(contents.sizeBytes / MIB).toFixed(1)} MiB, ${(contents.addedBytes / MIB).toFixed(1)} MiB over the base, ` +
            `${contents.addedFiles.length} files added, built in ${seconds.toFixed(0)} s`,
        );
        expect(contents.violations).toEqual([]);
        expect(contents.addedBytes).toBeLessThan(200 * MIB);
        // The provider's labels and the Dockerfile's, which reads the SERVICE build argument.
        expect(config.Labels).toMatchObject({ ...build.labels, "acgs.service": service, "acgs.constitutional-hash": CONSTITUTIONAL_HASH });
        expect(["", "0", "root"]).not.toContain(config.User ?? "");
        // What the image runs and what the stack's health check runs are in the image.
        const container = stack.containers.find((c) => c.labels.some((l: any) => l.label === "acgs.component" && l.value === service));
        const files = [...config.Cmd, ...(container?.healthcheck?.test ?? [])].filter((arg: string) => arg.startsWith("/app/"));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) expect(contents.addedFiles).toContain(file);
      },
      12 * 60_000,
    );

    test("an image that does not build fails, naming its service", async () => {
      const broken: ImageBuild = { ...buildOf("auth"), service: "no-such-service", buildArgs: { SERVICE: "no-such-service" }, tag: "acgs/e2e-broken:test" };
      await expect(buildImage(host(), broken)).rejects.toThrow(
        /image of service "no-such-service" \(acgs\/e2e-broken:test\) did not build:[\s\S]*must name a directory of services/,
      );
    }, 5 * 60_000);
  });

  describe("containers", () => {
    let data: DataStandIns | undefined;
    let loopback: LoopbackStack;
    const launched = new Map<string, LaunchedContainer>();
    const launchErrors = new Map<string, Error>();
    const suiteLabels = { [SUITE.label]: SUITE.value };
    // Stands for the stack's working directory, where Terraform writes the local files containers mount.
    let stackDir: string | undefined;

    beforeAll(async () => {
      stackDir = mkdtempSync(path.join(tmpdir(), "acgs-e2e-stack-"));
      data = await startDataStandIns(Object.values(stack.resources.docker_container), resolvePasswords);
      loopback = await loopbackStack(stack, data.endpoints, suiteLabels, stackDir);
      report.push(`not run: ${stack.pulled.map((p) => `${p.name} (${p.image})`).join(", ")}: their images come from a registry, which this machine cannot reach; PostgreSQL and Redis run from Debian's packages instead`);
      for (const line of loopback.moved) report.push(`port moved: ${line}`);
      for (const container of stack.containers) {
        const component = container.labels.find((l: any) => l.label === "acgs.component")?.value ?? container.name;
        try {
          launched.set(component, await launchContainer(host(), container, loopback.contextFor(container)));
        } catch (error) {
          launchErrors.set(component, error as Error);
        }
      }
    }, 5 * 60_000);

    afterAll(async () => {
      await removeContainers(host(), `${SUITE.label}=${SUITE.value}`).catch(() => {});
      await data?.stop();
      if (stackDir) rmSync(stackDir, { recursive: true, force: true });
    }, 120_000);

    const containerOf = (service: ServiceName): LaunchedContainer => {
      const error = launchErrors.get(service);
      if (error) throw new Error(`service "${service}": container did not start: ${error.message}`);
      const container = launched.get(service);
      if (!container) throw new Error(`the dev stack has no container for service "${service}"`);
      return container;
    };

    test.each(SERVICE_NAMES)(
      "%s: healthy within 60 s; non-root on a read-only root; answers /health and a domain route; writes nothing outside its tmpfs",
      async (service) => {
        const container = containerOf(service);
        const seconds = await waitHealthy(host(), container, 60_000);
        const inspected = (await engineCall(host(), "GET", `/containers/${container.id}/json`)).json();
        const port = loopback.endpoints.find((e) => e.host === container.name)!.loopbackPort;
        const url = `http://127.0.0.1:${port}`;

        const uid = (await docker(host(), ["exec", container.id, "id", "-u"])).stdout.trim();
        const write = await docker(host(), ["exec", container.id, "sh", "-c", "echo x > /app/e2e-write-test"], { allowFailure: true });
        const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
        const healthBody = await health.json();
        const probe = await probeDomainRoute(url, service);
        const changes = ((await engineCall(host(), "GET", `/containers/${container.id}/changes`)).json() ?? []) as { Path: string }[];
        const scratch = [...Object.keys(container.spec.HostConfig.Tmpfs ?? {}), ...container.spec.HostConfig.Mounts.map((m: any) => m.Target)];
        const outside = changes.map((c) => c.Path).filter((p) => !scratch.some((s) => p === s || p.startsWith(`${s}/`)));
        report.push(`container ${container.name}: healthy in ${seconds.toFixed(1)} s, uid ${uid}, ${probe.summary}`);

        expect(inspected.HostConfig).toMatchObject({
          ReadonlyRootfs: true,
          CapDrop: container.spec.HostConfig.CapDrop,
          SecurityOpt: container.spec.HostConfig.SecurityOpt,
          Memory: container.spec.HostConfig.Memory,
          NetworkMode: "host",
        });
        expect(inspected.Config.User).toBe(container.spec.User);
        expect(uid).toMatch(/^\d+$/);
        expect(uid).not.toBe("0");
        expect(write.code).not.toBe(0);
        expect(write.stderr).toMatch(/read-only file system/i);
        expect(health.status).toBe(200);
        expect(health.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
        expect(healthBody).toMatchObject({ service, constitutionalHash: CONSTITUTIONAL_HASH, environment: "dev" });
        if (!probe.ok) throw new Error(`service "${service}": ${probe.summary}: ${probe.detail}`);
        expect(outside).toEqual([]);
      },
      90_000,
    );

    test("a container whose health check fails fails the wait, naming its service", async () => {
      const auth = stack.containers.find((c) => c.name === containerOf("auth").name);
      const failing = {
        ...auth,
        name: `${auth.name}-unhealthy`,
        hostname: `${auth.name}-unhealthy`,
        command: ["node", "-e", "setInterval(() => {}, 60000)"], // no server: the check has nothing to reach
        // A start period of 0 would inherit the image's 30 s, during which failures do not count.
        healthcheck: { test: ["CMD", "node", "-e", "process.exit(1)"], interval: "1s", timeout: "1s", retries: 1, start_period: "1ms" },
        restart: "no",
      };
      const container = await launchContainer(host(), failing, loopback.contextFor(failing));
      await expect(waitHealthy(host(), container, 30_000)).rejects.toThrow(/service "auth" \(container acgs-auth-dev-unhealthy\) is not healthy: its health check failed/);
    }, 60_000);

    test("files the stack mounts from local files reach their read-only containers read-only, readable by the container's user", async () => {
      const componentOf = (c: any) => c.labels.find((l: any) => l.label === "acgs.component")?.value ?? c.name;
      const shipping = Object.values(stack.resources.docker_container).filter(
        (c: any) => c.read_only && mountedFiles(c, stack.resources, testPassword).length > 0,
      );
      expect(shipping.map(componentOf)).toEqual(expect.arrayContaining(["alertmanager", "grafana", "prometheus"]));
      const seen = await Promise.all(
        shipping.map(async (container: any) => {
          const files = mountedFiles(container, stack.resources, testPassword);
          // Their own images cannot be pulled: the base image stand-in prints what it sees instead of
          // running the program, with everything else (user, read-only root, mounts) as the stack has it.
          const standIn = {
            ...container,
            name: `${container.name}-files`,
            command: ["sh", "-c", SHOW_FILES, "sh", ...files.map((f) => f.path)],
            restart: "no",
          };
          // Anonymous volumes for the named ones: removed with the container, nothing left in the engine.
          const context = { ...loopback.contextFor(standIn, engine!.baseImage), volumeName: () => "" };
          const launched = await launchContainer(host(), standIn, context);
          try {
            const exit = (await engineCall(host(), "POST", `/containers/${launched.id}/wait`)).json().StatusCode;
            const logs = await docker(host(), ["logs", launched.id]);
            const shown = parseShownFiles(logs.stdout);
            report.push(`files mounted read-only: ${container.name}: ${shown.files.length} files, read as ${shown.user}, exit ${exit}`);
            const expected = {
              container: container.name,
              exit: 0,
              user: container.user,
              files: files.map((f) => ({
                ...f,
                mountOptions: expect.stringMatching(/^ro(,|$)/),
                write: expect.stringMatching(/read-only file system/i),
              })),
            };
            return { actual: { container: container.name, exit, user: shown.user, files: shown.files }, expected, stderr: logs.stderr };
          } finally {
            await engineCall(host(), "DELETE", `/containers/${launched.id}?force=1&v=1`);
          }
        }),
      );
      for (const { actual, expected, stderr } of seen) {
        if (actual.exit !== 0) throw new Error(`container ${actual.container}: the file check exited ${actual.exit}: ${stderr.trim()}`);
        expect(actual).toEqual(expected);
      }
    }, 60_000);
  });
});
