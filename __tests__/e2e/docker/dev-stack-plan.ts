// The dev stack as Terraform would get it: main.ts synthesized into a temp directory, its images
// to build and its containers to run read from cdk.tf.json, never from a list kept here.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const STACK = "acgs-dev";
/** Where cdktf runs Terraform for the stack: build contexts are relative to it. */
export const STACK_DIR = path.join(ROOT, "cdktf.out", "stacks", STACK);

/** Build attributes of docker_image this builder passes on; any other fails the plan. */
const BUILD_KEYS = new Set(["context", "dockerfile", "build_args", "target", "label"]);

export interface ImageBuild {
  /** The docker_image resource id. */
  readonly resource: string;
  /** The service it is for (its acgs.component label). */
  readonly service: string;
  /** Image name and tag, as the provider tags it. */
  readonly tag: string;
  /** Absolute path of the build context. */
  readonly context: string;
  /** Relative to the context, as the Engine API takes it. */
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface DevStack {
  /** resource type -> id -> attributes, as in cdk.tf.json */
  readonly resources: Record<string, Record<string, any>>;
  readonly builds: readonly ImageBuild[];
  /** docker_container resources whose image is built from this repository. */
  readonly containers: readonly any[];
  /** Containers whose image must be pulled from a registry, which cannot be done here. */
  readonly pulled: readonly { readonly name: string; readonly image: string }[];
}

const IMAGE_REFERENCE = /^\$\{docker_image\.([\w-]+)\.image_id\}$/;

/** The docker_image resource id a container's image attribute refers to. */
export function imageResourceOf(container: any): string {
  const match = IMAGE_REFERENCE.exec(container.image);
  if (!match) throw new Error(`container ${container.name}: image "${container.image}" is not a docker_image reference`);
  return match[1];
}

function imageBuild(resource: string, image: any): ImageBuild {
  const build = image.build;
  const unknown = Object.keys(build).filter((k) => !BUILD_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`docker_image ${resource}: build attributes ${unknown.join(", ")} are not passed on by this test's builder`);
  const service = build.label?.["acgs.component"] ?? build.build_args?.SERVICE;
  if (!service) throw new Error(`docker_image ${resource}: no acgs.component label nor SERVICE build argument`);
  return {
    resource,
    service,
    tag: image.name,
    context: path.resolve(STACK_DIR, build.context),
    dockerfile: build.dockerfile ?? "Dockerfile",
    buildArgs: build.build_args ?? {},
    target: build.target,
    labels: build.label ?? {},
  };
}

export function readDevStack(config: any): DevStack {
  const resources = config.resource as Record<string, Record<string, any>>;
  const images = resources.docker_image ?? {};
  const builds = Object.entries(images)
    .filter(([, image]) => image.build)
    .map(([id, image]) => imageBuild(id, image));
  const built = new Set(builds.map((b) => b.resource));
  const all = Object.values(resources.docker_container ?? {});
  return {
    resources,
    builds,
    containers: all.filter((c) => built.has(imageResourceOf(c))),
    pulled: all.filter((c) => !built.has(imageResourceOf(c))).map((c) => ({ name: c.name, image: images[imageResourceOf(c)].name })),
  };
}

/** Synthesizes main.ts (as `npm run synth` does) into a temp directory and reads the dev stack. */
export function synthesizeDevStack(): DevStack {
  const outdir = mkdtempSync(path.join(tmpdir(), "acgs-synth-"));
  try {
    execFileSync(path.join(ROOT, "node_modules/.bin/tsx"), ["main.ts"], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 120_000,
    });
    return readDevStack(JSON.parse(readFileSync(path.join(outdir, "stacks", STACK, "cdk.tf.json"), "utf8")));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
