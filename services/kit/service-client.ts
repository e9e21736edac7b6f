// Calls from one ACGS service to another: the constitutional hash and the request id travel with
// every call, each call has a timeout, and a peer that is down surfaces as DependencyUnavailableError.
// Calls go through node:http on kept-alive connections (one pool per client): fetch costs several
// times the CPU per call (web streams, an AbortSignal and its timer, a new Headers per call).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
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
  /** Closes the kept-alive connections (they never hold the process open either way). */
  close(): void;
}

// Enough for a busy service's concurrent calls; more calls wait for a free connection. The idle
// timeout lets Node honour the peer's Keep-Alive hint (it retires an idle connection a second
// before the peer would close it, so a call never goes out on a connection being closed).
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, timeout: 5000 };

export function createServiceClient(config: ServiceConfig, peer: ServiceName, defaultTimeoutMs = 2000): ServiceClient {
  const baseUrl = config.serviceUrls[peer];
  if (!baseUrl) {
    throw new Error(`service "${config.service.name}" does not call "${peer}" (not in its catalog entry's calls)`);
  }
  const url = new URL(baseUrl);
  const secure = url.protocol === "https:";
  const agent = secure ? new HttpsAgent(AGENT_OPTIONS) : new HttpAgent(AGENT_OPTIONS);
  const send = secure ? httpsRequest : httpRequest;
  const target = {
    agent,
    // URL keeps an IPv6 address in brackets; node:http wants it bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port || (secure ? 443 : 80),
  };
  const prefix = url.pathname === "/" ? "" : url.pathname;

  return {
    peer,
    baseUrl,
    call<T>(path: string, options: ServiceCallOptions = {}): Promise<ServiceResponse<T>> {
      const headers: OutgoingHttpHeaders = { [CONSTITUTIONAL_HASH_HEADER]: CONSTITUTIONAL_HASH, Accept: "application/json" };
      if (options.requestId) headers["X-Request-Id"] = options.requestId;
      if (options.authorization) headers.Authorization = options.authorization;
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      if (payload !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(payload);
      }
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      const method = options.method ?? (payload === undefined ? "GET" : "POST");
      const unavailable = (reason: string, retryAfterSeconds?: number) => new DependencyUnavailableError(peer, `${path}: ${reason}`, retryAfterSeconds);

      return new Promise<ServiceResponse<T>>((resolve, reject) => {
        const request = send({ ...target, path: prefix + path, method, headers });
        // One timer per call, covering the connection, the request and the whole answer.
        const timer = setTimeout(() => request.destroy(unavailable(`no answer within ${timeoutMs} ms`)), timeoutMs);
        const fail = (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof DependencyUnavailableError ? error : unavailable(reasonOf(error)));
        };
        request.on("error", fail);
        request.on("response", (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", fail);
          // A connection dropped mid-answer: "end" never comes.
          response.on("close", () => response.complete || fail(unavailable("connection closed before the whole answer")));
          response.on("end", () => {
            clearTimeout(timer);
            const status = response.statusCode ?? 0;
            if (status >= 500) {
              const retryAfter = Number(response.headers["retry-after"]);
              reject(new DependencyUnavailableError(peer, `${path} answered ${status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 5));
              return;
            }
            const text = chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8");
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON: hand back the text; ACGS services always answer JSON, so this is a foreign peer.
            }
            resolve({ status, body: body as T });
          });
        });
        request.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** What a failed connection says: its code (ECONNREFUSED...) when it has one. Duck-typed: Node's errors may come from another realm (jest). */
function reasonOf(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === "string" ? code : String(message ?? error);
}
