// The content hash of everything an image of one service is built from, so the docker provider
// rebuilds exactly the images whose sources changed. Paths are relative: the hash is the same in any checkout.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** What every image is built from besides the service's own folder (see services/Dockerfile). */
const SHARED_INPUTS = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "services/Dockerfile",
  "services/healthcheck.mjs",
  "services/catalog.ts",
  "services/kit",
];

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((entry) => filesUnder(root, `${path}/${entry}`));
}

function hashFiles(root: string, paths: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of paths.flatMap((p) => filesUnder(root, p)).sort()) {
    hash.update(file);
    hash.update("\0");
    hash.update(readFileSync(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** A function from service name to its source hash; the shared inputs are read once. */
export function serviceSourceHasher(root: string): (service: string) => string {
  let shared: string | undefined;
  const memo = new Map<string, string>();
  return (service) => {
    shared ??= hashFiles(root, SHARED_INPUTS);
    let hash = memo.get(service);
    if (!hash) {
      hash = createHash("sha256").update(shared).update("\0").update(hashFiles(root, [`services/${service}`])).digest("hex");
      memo.set(service, hash);
    }
    return hash;
  };
}
