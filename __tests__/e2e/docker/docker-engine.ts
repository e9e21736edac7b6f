// The engine the image and container tests run on, prepared by prepare-engine.sh: whether one can
// be had (checked when the test file loads, so the suite is skipped with the reason when not),
// preparing it with the base image stand-in, and stopping the daemon the fixture started.
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";

const SCRIPT = path.join(__dirname, "prepare-engine.sh");

export interface DockerEngine {
  /** DOCKER_HOST of the engine, e.g. unix:///run/acgs-docker/docker.sock */
  readonly host: string;
  /** The fixture's own daemon, stopped after the tests; undefined for an engine someone else runs. */
  readonly dockerdPid?: number;
  readonly storageDriver?: string;
  /** The base image the Dockerfile names, present in the engine. */
  readonly baseImage: string;
}

function runScript(steps: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, ...steps], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.once("error", (error) => reject(error));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = stderr.trim().split("\n").pop() || (signal ? `killed by ${signal} after ${timeoutMs} ms` : `exit ${code}`);
        return reject(new Error(`prepare-engine.sh ${steps.join(" ")}: ${why}`));
      }
      resolve(Object.fromEntries(stdout.trim().split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])));
    });
  });
}

/** Why no engine can be had here (one line), or undefined when one answers or can be started. */
export function engineUnavailableReason(): string | undefined {
  if (process.env.ACGS_DOCKER_E2E === "off") return "turned off by ACGS_DOCKER_E2E=off";
  if (process.platform !== "linux") return `needs Linux, this is ${process.platform}`;
  try {
    execFileSync("bash", [SCRIPT, "check"], { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error as Error).message;
  }
}

/** Installs and starts what is missing (first run: ~1 min for the base image), then answers the engine. */
export async function prepareEngine(): Promise<DockerEngine> {
  const found = await runScript(["engine"], 5 * 60_000);
  const engine = {
    host: found.DOCKER_HOST,
    dockerdPid: found.DOCKERD_PID ? Number(found.DOCKERD_PID) : undefined,
    storageDriver: found.STORAGE_DRIVER,
  };
  try {
    const base = await runScript(["base"], 15 * 60_000, { DOCKER_HOST: engine.host });
    return { ...engine, baseImage: base.BASE_IMAGE };
  } catch (error) {
    await stopEngine({ ...engine, baseImage: "" });
    throw error;
  }
}

/** Stops the fixture's daemon (its data-root stays: it caches the base image and build layers). */
export async function stopEngine(engine: DockerEngine): Promise<void> {
  if (engine.dockerdPid) await runScript(["stop", String(engine.dockerdPid)], 60_000);
}
