import { Testing } from "cdktf";
import type { Environment } from "../../environments";
import { PlatformStack } from "../../stacks/platform-stack";

/** A fixed source hash, so snapshots change when the plan changes, not whenever a service's code does. */
export const fixedSourceHash = (service: string) => `${service}-sources`.padEnd(64, "0");

export interface SynthesizedStack {
  readonly stack: PlatformStack;
  /** The stack's JSON as Testing.synth writes it (sorted keys, no metadata). */
  readonly json: string;
  readonly config: any;
}

export function synthesizeStack(env: Environment): SynthesizedStack {
  const stack = new PlatformStack(Testing.app(), { env, sourceHash: fixedSourceHash });
  const json = Testing.synth(stack);
  return { stack, json, config: JSON.parse(json) };
}

/** Containers of a synthesized stack, keyed by their Docker name. */
export function containersByName(config: any): Record<string, any> {
  return Object.fromEntries(Object.values<any>(config.resource.docker_container).map((c) => [c.name, c]));
}

export function envOf(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

export function labelsOf(resource: any): Record<string, string> {
  return Object.fromEntries((resource.labels ?? []).map((l: any) => [l.label, l.value]));
}

/** Files a container gets, by their path inside it: local files of the plan mounted read-only. */
export function shippedFiles(config: any, container: any): { file: string; content: string }[] {
  return ((container.volumes ?? []) as any[]).flatMap((v) => {
    const match = /^\$\{abspath\((local_file|local_sensitive_file)\.([\w-]+)\.filename\)\}$/.exec(v.host_path ?? "");
    if (!match) return [];
    if (v.read_only !== true) throw new Error(`${container.name}: ${v.container_path} is mounted writable`);
    return [{ file: v.container_path, content: config.resource[match[1]][match[2]].content }];
  });
}
