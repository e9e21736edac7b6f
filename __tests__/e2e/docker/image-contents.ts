// What an image adds to its base, read from the image itself: its size, the files it adds, and
// the ones it must not hold (development dependencies, source maps, tests, TypeScript sources).
import { readFileSync } from "node:fs";
import path from "node:path";
import { docker } from "./docker-cli";

const LOCKFILE = path.resolve(__dirname, "../../../package-lock.json");
const INLINE_MAPS = "---inline-source-maps---";
// Every file and link outside the kernel's file systems, then the JavaScript with an inline map.
const LIST_FILES = `
  find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o \\( -type f -o -type l \\) -print
  echo ${INLINE_MAPS}
  find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f \\( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \\) -print0 \\
    | xargs -0 grep -l 'sourceMappingURL=data:' 2>/dev/null || true
`;

export interface ImageFiles {
  readonly files: ReadonlySet<string>;
  readonly inlineSourceMaps: ReadonlySet<string>;
}

export interface ImageContents {
  readonly sizeBytes: number;
  /** Size minus the base image's: what the image adds. */
  readonly addedBytes: number;
  readonly addedFiles: readonly string[];
  /** One line per file that must not be in the image, saying why. */
  readonly violations: readonly string[];
}

export async function imageSize(host: string, image: string): Promise<number> {
  return Number((await docker(host, ["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
}

export async function listImageFiles(host: string, image: string): Promise<ImageFiles> {
  const { stdout } = await docker(host, ["run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "sh", image, "-c", LIST_FILES]);
  const [files, maps] = stdout.split(`${INLINE_MAPS}\n`);
  const lines = (text = "") => new Set(text.split("\n").filter(Boolean));
  return { files: lines(files), inlineSourceMaps: lines(maps) };
}

/** Lockfile keys (node_modules/a/node_modules/@b/c) of the packages only development needs. */
function devOnlyPackages(): { dev: Set<string>; known: Set<string> } {
  const lock = JSON.parse(readFileSync(LOCKFILE, "utf8"));
  const entries = Object.entries<any>(lock.packages ?? {}).filter(([key]) => key.startsWith("node_modules/"));
  return { dev: new Set(entries.filter(([, p]) => p.dev).map(([key]) => key)), known: new Set(entries.map(([key]) => key)) };
}

const PACKAGE_PATH = /node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*/;
const TEST_PATH = /(^|\/)(__tests__|__mocks__|tests?)\/|\.(test|spec)\.[cm]?[jt]sx?$/i;
const TYPESCRIPT_SOURCE = /(?<!\.d)\.[cm]?tsx?$/;

function violation(file: string, packages: { dev: Set<string>; known: Set<string> }): string | undefined {
  if (file.endsWith(".map")) return `${file}: source map`;
  if (TEST_PATH.test(file)) return `${file}: test file`;
  if (TYPESCRIPT_SOURCE.test(file)) return `${file}: TypeScript source (the service is bundled)`;
  const pkg = PACKAGE_PATH.exec(file)?.[0];
  if (pkg && packages.dev.has(pkg)) return `${file}: development dependency ${pkg}`;
  if (pkg && !packages.known.has(pkg)) return `${file}: package ${pkg} is not in package-lock.json`;
  return undefined;
}

export async function imageContents(host: string, image: string, base: { sizeBytes: number; files: ImageFiles }): Promise<ImageContents> {
  const [sizeBytes, files] = await Promise.all([imageSize(host, image), listImageFiles(host, image)]);
  const addedFiles = [...files.files].filter((f) => !base.files.files.has(f)).sort();
  const packages = devOnlyPackages();
  const violations = [
    ...addedFiles.map((f) => violation(f, packages)).filter((v): v is string => v !== undefined),
    ...[...files.inlineSourceMaps].filter((f) => !base.files.inlineSourceMaps.has(f)).map((f) => `${f}: inline source map`),
  ];
  return { sizeBytes, addedBytes: sizeBytes - base.sizeBytes, addedFiles, violations };
}
