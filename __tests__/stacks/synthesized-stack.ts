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
