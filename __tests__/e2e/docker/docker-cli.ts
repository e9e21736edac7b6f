// Runs the docker command-line client against one engine, collecting its output.
import { spawn } from "node:child_process";

export interface DockerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DockerOptions {
  /** Default 120 s; the process is killed after it. */
  readonly timeoutMs?: number;
  /** Resolve with a non-zero code instead of throwing. */
  readonly allowFailure?: boolean;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** The last lines of some output, for error messages that stay readable. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

export function docker(host: string, args: readonly string[], options: DockerOptions = {}): Promise<DockerResult> {
  const { timeoutMs = 120_000, allowFailure = false } = options;
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, DOCKER_HOST: host },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`docker ${args[0]}: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr };
      if (result.code === 0 || allowFailure) return resolve(result);
      const why = signal ? `killed by ${signal} after ${timeoutMs} ms` : `exit ${code}`;
      reject(new Error(`docker ${args.slice(0, 3).join(" ")} failed (${why}):\n${tail(stderr || stdout)}`));
    });
  });
}
