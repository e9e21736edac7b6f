// Refuses /api/ requests made under another constitution, and counts every check for the
// compliance metrics.
import type { MiddlewareHandler } from "hono";
import { CONSTITUTIONAL_HASH } from "../catalog";
import type { ServiceMetrics } from "./metrics";
import { requestHeader } from "./request-header";

export const CONSTITUTIONAL_HASH_HEADER = "X-Constitutional-Hash";

export interface HashGuardOptions {
  /** Refuse a request without the header too (staging, production). */
  readonly strict: boolean;
  readonly metrics: Pick<ServiceMetrics, "recordCompliance">;
}

export function constitutionalHashGuard({ strict, metrics }: HashGuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const received = requestHeader(c, "x-constitutional-hash");
    if (received === CONSTITUTIONAL_HASH || (received === undefined && !strict)) {
      metrics.recordCompliance(true);
      return next();
    }
    metrics.recordCompliance(false);
    return c.json(
      {
        error: received === undefined ? "missing constitutional hash" : "constitutional hash mismatch",
        header: CONSTITUTIONAL_HASH_HEADER,
        expected: CONSTITUTIONAL_HASH,
        received: received ?? null,
      },
      403,
    );
  };
}
