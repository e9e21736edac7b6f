import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { serviceSourceHasher } from "../../constructs/service/service-source-hash";

/** A minimal checkout: the shared inputs and two services. */
function checkout(base: string, overrides: Record<string, string> = {}): string {
  const files: Record<string, string> = {
    "package.json": "{}",
    "package-lock.json": "{}",
    "services/Dockerfile": "FROM node",
    "services/kit/service-app.ts": "export const kit = 1;",
    "services/auth/main.ts": "auth",
    "services/blackboard/main.ts": "blackboard",
    "README.md": "not an input",
    ...overrides,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), content);
  }
  return base;
}

describe("serviceSourceHasher", () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), "acgs-hash-"));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const hashes = (root: string) => {
    const hash = serviceSourceHasher(root);
    return { auth: hash("auth"), blackboard: hash("blackboard") };
  };

  it("is the same for the same content in two directories, and differs between services", () => {
    const a = hashes(checkout(join(base, "a")));
    const b = hashes(checkout(join(base, "some/other/b")));
    expect(a).toEqual(b);
    expect(a.auth).toMatch(/^[0-9a-f]{64}$/);
    expect(a.auth).not.toBe(a.blackboard);
  });

  it("changes only the service whose own sources changed", () => {
    const before = hashes(checkout(join(base, "a")));
    const after = hashes(checkout(join(base, "b"), { "services/auth/routes.ts": "new route" }));
    expect(after.auth).not.toBe(before.auth);
    expect(after.blackboard).toBe(before.blackboard);
  });

  it("changes every service when the kit, the Dockerfile or the lockfile changes, and none for other files", () => {
    const before = hashes(checkout(join(base, "a")));
    for (const [i, change] of [["services/kit/service-app.ts", "2"], ["services/Dockerfile", "FROM x"], ["package-lock.json", "{ }"]].entries()) {
      const after = hashes(checkout(join(base, `k${i}`), { [change[0]]: change[1] }));
      expect(after.auth).not.toBe(before.auth);
      expect(after.blackboard).not.toBe(before.blackboard);
    }
    expect(hashes(checkout(join(base, "r"), { "README.md": "edited" }))).toEqual(before);
  });
});
