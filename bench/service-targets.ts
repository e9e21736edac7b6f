// The main route of each service, as bench/services.ts drives it: what to create first, then the
// request repeated under load.
import type { Target } from "./services";

export interface BenchRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TargetContext {
  readonly env: Readonly<Record<string, string>>;
}

export const SERVICE_TARGETS: Target[] = [];
