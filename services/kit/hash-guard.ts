// Refuses /api/ requests made under another constitution, and counts every check for the
// compliance metrics. A plain check, not middleware: the app runs it before routing.
import { CONSTITUTIONAL_HASH } from "../catalog";
import type { ServiceMetrics } from "./metrics";

export const CONSTITUTIONAL_HASH_HEADER = "X-Constitutional-Hash";

export interface HashGuardOptions {
  /** Refuse a request without the header too (staging, production). */
  readonly strict: boolean;
  readonly metrics: Pick<ServiceMetrics, "recordCompliance">;
}

/** The 403 body for a request without an acceptable hash (the header's value), else undefined. */
export function hashRefusal(received: string | undefined, { strict, metrics }: HashGuardOptions) {
  if (received === CONSTITUTIONAL_HASH || (received === undefined && !strict)) {
    metrics.recordCompliance(true);
    return undefined;
  }
  metrics.recordCompliance(false);
  return {
    error: received === undefined ? "missing constitutional hash" : "constitutional hash mismatch",
    header: CONSTITUTIONAL_HASH_HEADER,
    expected: CONSTITUTIONAL_HASH,
    received: received ?? null,
  };
}
