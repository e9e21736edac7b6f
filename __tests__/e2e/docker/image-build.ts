// Builds one image the way the Terraform docker provider does: the Engine API's (classic) builder
// with the resource's context, Dockerfile, build arguments, target and labels. Two additions for
// this machine: the build's RUN steps use host networking (no bridge here), and proxy variables,
// when set, pass as Docker's predefined build arguments (never written into the image). And
// --force-rm, which only cleans up after a failed step.
import path from "node:path";
import { docker, tail } from "./docker-cli";
import type { ImageBuild } from "./dev-stack-plan";

const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];

export function buildArguments(build: ImageBuild): string[] {
  return [
    "build",
    "--network", "host",
    "--force-rm", // a failed step's container goes too (the classic builder keeps it otherwise)
    "--file", path.join(build.context, build.dockerfile),
    ...Object.entries(build.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...PROXY_VARIABLES.filter((v) => process.env[v]).flatMap((v) => ["--build-arg", v]),
    ...(build.target ? ["--target", build.target] : []),
    ...Object.entries(build.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    "--tag", build.tag,
    build.context,
  ];
}

/** Builds the image; a failed build throws naming the service, with the end of the build's output. */
export async function buildImage(host: string, build: ImageBuild): Promise<{ seconds: number }> {
  const started = Date.now();
  const result = await docker(host, buildArguments(build), {
    timeoutMs: 10 * 60_000,
    allowFailure: true,
    // The classic builder, as the provider's API call uses; the CLI would otherwise look for buildx.
    env: { DOCKER_BUILDKIT: "0" },
  });
  if (result.code !== 0) {
    throw new Error(`image of service "${build.service}" (${build.tag}) did not build:\n${tail(result.stdout + result.stderr, 25)}`);
  }
  return { seconds: (Date.now() - started) / 1000 };
}
