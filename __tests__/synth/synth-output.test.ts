// Synthesizes the real app (main.ts) from two copies of the repository in different directories:
// the output must be byte-identical, hold no path of the machine, and hold no secret.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const SKIP = new Set(["node_modules", ".gen", "cdktf.out", ".git", "coverage", "dist"]);
const CANARY = "canary-secret-5f1e2d";

function copyRepository(into: string): void {
  mkdirSync(into, { recursive: true });
  for (const entry of readdirSync(ROOT)) {
    if (SKIP.has(entry)) continue;
    cpSync(join(ROOT, entry), join(into, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(into, "node_modules"));
  symlinkSync(join(ROOT, ".gen"), join(into, ".gen"));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

function synthesize(checkout: string): Map<string, string> {
  execFileSync(join(ROOT, "node_modules/.bin/tsx"), ["main.ts"], {
    cwd: checkout,
    encoding: "utf8",
    // Secrets that exist at deploy time must not leak into what synth writes.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TF_VAR_chat_webhook_url: `https://chat.example/${CANARY}`,
      TF_VAR_pager_routing_key: CANARY,
      POSTGRES_PASSWORD: CANARY,
      DATABASE_URL: `postgres://acgs:${CANARY}@db/acgs`,
    },
  });
  const out = join(checkout, "cdktf.out");
  return new Map(filesUnder(out).map((f) => [relative(out, f), readFileSync(f, "utf8")]));
}

describe("synthesized output of main.ts", () => {
  let base: string;
  let first: Map<string, string>;
  let second: Map<string, string>;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "acgs-synth-"));
    const [a, b] = [join(base, "a"), join(base, "elsewhere/deeper/b")];
    copyRepository(a);
    // The second checkout is a copy of the first, so both hold the same commit even while files change.
    cpSync(a, b, { recursive: true, verbatimSymlinks: true });
    first = synthesize(a);
    second = synthesize(b);
  }, 120_000);

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it("writes one cdk.tf.json per environment", () => {
    for (const stack of ["acgs-dev", "acgs-staging", "acgs-production"]) {
      expect(first.has(`stacks/${stack}/cdk.tf.json`)).toBe(true);
    }
  });

  it("is byte-identical from two directories", () => {
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    for (const [file, content] of first) {
      expect({ file, identical: second.get(file) === content }).toEqual({ file, identical: true });
    }
  });

  it("holds no absolute path of the machine", () => {
    for (const [file, content] of first) {
      expect({ file, leaks: [base, ROOT, process.env.HOME ?? "/root"].filter((p) => content.includes(p)) }).toEqual({ file, leaks: [] });
    }
  });

  it("holds no secret: no canary from the environment, and every secret by reference", () => {
    for (const [file, content] of first) {
      expect({ file, canary: content.includes(CANARY) }).toEqual({ file, canary: false });
      // A password-like assignment must be followed by a Terraform reference, never a literal.
      for (const match of content.matchAll(/"(\w*(?:PASSWORD|SECRET|TOKEN|DATABASE_URL|REDIS_URL|DATA_SOURCE_NAME|REDISCLI_AUTH))=([^"]*)"/g)) {
        expect({ file, variable: match[1], value: match[2] }).toEqual({ file, variable: match[1], value: expect.stringMatching(/\$\{(random_password|var)\./) });
      }
      for (const match of content.matchAll(/:\/\/[^:/"@\s]*:([^@"\s]+)@/g)) {
        expect({ file, credential: match[1] }).toEqual({ file, credential: expect.stringMatching(/^\$\{random_password\./) });
      }
      expect(content).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    }
  });
});
