// The content hash of everything an image of one service is built from, so the docker provider
// rebuilds exactly the images whose sources changed. Paths are relative: the hash is the same in any checkout.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

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
    .flatMap((entry) => filesUnder(root, join(path, entry)));
}

export function serviceSourceHash(root: string, service: string): string {
  const hash = createHash("sha256");
  const files = [...SHARED_INPUTS, `services/${service}`].flatMap((p) => filesUnder(root, p)).sort();
  for (const file of files) {
    hash.update(relative(root, join(root, file)).split("\\").join("/"));
    hash.update("\0");
    hash.update(readFileSync(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}
