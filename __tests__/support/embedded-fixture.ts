// Runs a fixture script on the embedded defaults (no DATABASE_URL, REDIS_URL or PGLITE_DATA_DIR:
// PGlite and the in-process cache) in a child process under tsx, and returns the JSON it prints.
// A child process because PGlite cannot load inside jest (its dynamic import needs VM modules).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");

/** The report is whatever the fixture prints: typed loosely, as api-call's bodies are. */
export async function runEmbeddedFixture(script: string, timeoutMs = 45_000): Promise<any> {
  const env = { ...process.env };
  for (const name of ["DATABASE_URL", "REDIS_URL", "PGLITE_DATA_DIR"]) delete env[name];
  const { stdout } = await promisify(execFile)(path.join(ROOT, "node_modules/.bin/tsx"), [script], { cwd: ROOT, env, timeout: timeoutMs });
  return JSON.parse(stdout);
}
