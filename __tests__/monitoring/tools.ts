// The real promtool and amtool (Debian's prometheus and prometheus-alertmanager packages), run on
// files in a temporary directory. No mocks: what passes here passes for Prometheus and Alertmanager.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";
export const AMTOOL = process.env.AMTOOL_BIN ?? "/usr/bin/amtool";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Command, exit code and output, for a failure message. */
  readonly report: string;
}

export function run(command: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  if (command.startsWith("/") && !existsSync(command)) {
    throw new Error(`${command} not found: run scripts/install-test-deps.sh (Debian packages prometheus, prometheus-alertmanager)`);
  }
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, report: `$ ${command} ${args.join(" ")}\n(exit ${code})\n${stdout}${stderr}` });
    });
  });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `acgs-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (path relative to `dir` → content). */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}
