// Calls from one ACGS service to another: the constitutional hash and the request id travel with
// every call, each call has a timeout, and a peer that is down surfaces as DependencyUnavailableError.
import { CONSTITUTIONAL_HASH, type ServiceName } from "../catalog";
import type { ServiceConfig } from "./config";
import { CONSTITUTIONAL_HASH_HEADER } from "./hash-guard";
import { DependencyUnavailableError } from "./unavailable";

export interface ServiceCallOptions {
  readonly method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly body?: unknown;
  /** Propagated as X-Request-Id, so one request can be followed across services. */
  readonly requestId?: string;
  /** Forwarded Authorization header, where the caller acts for its own client. */
  readonly authorization?: string;
  readonly timeoutMs?: number;
}

export interface ServiceResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface ServiceClient {
  readonly peer: ServiceName;
  readonly baseUrl: string;
  /** Answers any status below 500 as is; a 5xx, a timeout or a refused connection throws DependencyUnavailableError. */
  call<T = unknown>(path: string, options?: ServiceCallOptions): Promise<ServiceResponse<T>>;
}

export function createServiceClient(config: ServiceConfig, peer: ServiceName, defaultTimeoutMs = 2000): ServiceClient {
  const baseUrl = config.serviceUrls[peer];
  if (!baseUrl) {
    throw new Error(`service "${config.service.name}" does not call "${peer}" (not in its catalog entry's calls)`);
  }
  return {
    peer,
    baseUrl,
    async call<T>(path: string, options: ServiceCallOptions = {}): Promise<ServiceResponse<T>> {
      const headers: Record<string, string> = { [CONSTITUTIONAL_HASH_HEADER]: CONSTITUTIONAL_HASH, Accept: "application/json" };
      if (options.requestId) headers["X-Request-Id"] = options.requestId;
      if (options.authorization) headers.Authorization = options.authorization;
      if (options.body !== undefined) headers["Content-Type"] = "application/json";
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      let response: Response;
      try {
        response = await fetch(`${baseUrl}${path}`, {
          method: options.method ?? (options.body === undefined ? "GET" : "POST"),
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const e = error as Error & { cause?: { code?: string } };
        const reason = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
        throw new DependencyUnavailableError(peer, `${path}: ${reason}`);
      }
      const text = await response.text();
      if (response.status >= 500) {
        const retryAfter = Number(response.headers.get("Retry-After"));
        throw new DependencyUnavailableError(peer, `${path} answered ${response.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 5);
      }
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: hand back the text; ACGS services always answer JSON, so this is a foreign peer.
      }
      return { status: response.status, body: body as T };
    },
  };
}
