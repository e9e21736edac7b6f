// The Hono app every service starts from: the SPEC's contract (hash header and guard, /health,
// /ready, /metrics, JSON errors, body limit, rate limit, request ids, access logs) in one place;
// a service only adds its routes to the returned app.
import type { ServerResponse } from "node:http";
import { Hono, type Context, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Router } from "hono/router";
import type { H, RouterRoute } from "hono/types";
import { version as packageVersion } from "../../package.json";
import { CONSTITUTIONAL_HASH } from "../catalog";
import type { ServiceConfig } from "./config";
import { checkDependencies, type Dependency } from "./dependency";
import { ContractResponse, REQUEST_ID_HEADER } from "./contract-response";
import { CONSTITUTIONAL_HASH_HEADER, hashRefusal } from "./hash-guard";
import { preparingRouter, type Prepare } from "./preparing-router";
import { createLogger, type Logger } from "./logger";
import { createServiceMetrics, type ServiceMetrics } from "./metrics";
import { createRateLimiter, rateLimitedBody, socketAddress } from "./rate-limit";
import { asDependencyUnavailable } from "./unavailable";
import { NodeRequest } from "./node-request";
import { nextRequestId } from "./request-id";
import { headerOf, mayHaveBody } from "./request-header";
import { declaredBodyLength } from "./request-body";
import type { Principal } from "./access-token";
import type { TokenGate } from "./require-level";
import { createTokenVerifier, type TokenVerifier } from "./token-verifier";

export { REQUEST_ID_HEADER } from "./contract-response";

export type ServiceEnv = {
  Variables: {
    requestId: string;
    /** Set by the not-found handler: the metrics label the request "unmatched". */
    unmatched: true;
    /** How requireLevel checks tokens in this app. */
    tokenGate: TokenGate;
    /** The verified caller, set by requireLevel where auth is required. */
    principal: Principal | undefined;
  };
};

export type ServiceApp = Hono<ServiceEnv>;

export interface ServiceAppOptions {
  readonly config: ServiceConfig;
  /** Default: JSON lines on stdout at the configured level. */
  readonly logger?: Logger;
  /** Default: a fresh registry with the process metrics. */
  readonly metrics?: ServiceMetrics;
  /** What /health reports and /ready waits for. Default none. */
  readonly dependencies?: readonly Dependency[];
  /** Default: the package version. */
  readonly version?: string;
  /** True while the server drains before exit: /ready answers 503 so traffic moves away. */
  readonly draining?: () => boolean;
  /** Default: verifies against config.authJwksUrl (fetched at the first token, not before). */
  readonly tokenVerifier?: TokenVerifier;
}

/** Route label of requests no route matched: raw paths would explode the metric's cardinality. */
export const UNMATCHED_ROUTE = "unmatched";
// Probes and scrapes: not limited, not guarded, and (coming every few seconds) logged at debug.
const PROBE_PATHS = new Set(["/health", "/ready", "/metrics"]);
// An incoming request id is reused only when it is harmless in logs and headers.
const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { config } = options;
  const service = config.service.name;
  const logger = options.logger ?? createLogger({ service, level: config.logLevel });
  const metrics = options.metrics ?? createServiceMetrics(service);
  const dependencies = options.dependencies ?? [];
  const required = dependencies.filter((d) => d.required);
  const version = options.version ?? packageVersion;
  const draining = options.draining ?? (() => false);
  const startedAt = Date.now();
  const tokenGate: TokenGate = {
    required: config.authRequired,
    verifier: options.tokenVerifier ?? createTokenVerifier({ jwksUrl: config.authJwksUrl }),
  };

  const bodyTooLarge = () => ({ error: "request body too large", limitBytes: config.bodyLimitBytes });
  const limitStreamedBody = bodyLimit({ maxSize: config.bodyLimitBytes, onError: (c) => c.json(bodyTooLarge(), 413) });
  const streamsBody = (c: Context) => declaredBodyLength(c) === undefined && mayHaveBody(c);
  const limiterOptions = { perMinute: config.rateLimitPerMinute, burst: config.rateLimitBurst };
  const limiter = createRateLimiter(limiterOptions);
  const hashGuard = { strict: config.hashStrict, metrics };

  // The contract runs around Hono's dispatch (app.fetch below), not as middleware; handlers get
  // the request id and token gate from `prepare`, run before the first handler of a request.
  const prepare: Prepare = (c, route, run) => {
    const state = kitState(c);
    c.set("requestId", state.requestId);
    c.set("tokenGate", tokenGate);
    state.context = c;
    state.route = route;
    // A chunked body is counted as it streams (a declared length was checked before routing);
    // bodyLimit hands on what `run` answers, as Hono's compose hands on what next() does.
    const method = state.method;
    if (method === "GET" || method === "HEAD" || !streamsBody(c)) return undefined;
    // bodyLimit re-makes the Request from itself: that takes the full WHATWG one.
    c.req.raw = NodeRequest.whole(c.req.raw);
    return limitStreamedBody(c, run as Next);
  };
  const router = preparingRouter(prepare, (c) => kitState(c).context === c);
  const app = new Hono<ServiceEnv>({
    router: router as unknown as Router<[H, RouterRoute]>,
    // The contract has parsed the path already.
    getPath: (request, options) => (options?.env as { [KIT_STATE]?: KitState } | undefined)?.[KIT_STATE]?.path ?? NodeRequest.path(request),
  });

  // Rate limit, hash guard (under /api/ only) and declared body length, before routing: the
  // refusal, or undefined to go on. Probes and scrapes are exempt.
  const refusal = (request: Request, env: unknown, method: string, path: string): Response | undefined => {
    if ((method === "GET" || method === "HEAD") && PROBE_PATHS.has(path)) return undefined;
    if (limiter !== undefined) {
      const retryAfterSeconds = limiter(socketAddress(env));
      if (retryAfterSeconds !== undefined) {
        return jsonResponse(rateLimitedBody(limiterOptions, retryAfterSeconds), 429, { "Retry-After": String(retryAfterSeconds) });
      }
    }
    // The paths Hono's "/api/*" matches.
    if (path === "/api" || path.startsWith("/api/")) {
      const refused = hashRefusal(headerOf(request, env, "x-constitutional-hash"), hashGuard);
      if (refused !== undefined) return jsonResponse(refused, 403);
    }
    const declared = declaredLength(request, env);
    return declared !== undefined && declared > config.bodyLimitBytes ? jsonResponse(bodyTooLarge(), 413) : undefined;
  };

  // The access log and metrics of an answered request; the answer, with the contract's headers.
  const finish = (state: KitState, response: Response): Response => {
    const answer = state.plain ? withContractHeaders(response, state.requestId) : response;
    const { method, path, requestId } = state;
    const status = answer.status;
    const seconds = (performance.now() - state.start) / 1000;
    const route =
      state.context !== undefined
        ? state.context.get("unmatched") ? UNMATCHED_ROUTE : state.route
        : state.refused ? routeOf(method, path) : UNMATCHED_ROUTE;
    metrics.observeRequest(route, KNOWN_METHODS.has(method) ? method : "OTHER", status, seconds);
    const level = PROBE_PATHS.has(route) ? "debug" : "info";
    if (logger.enabled(level)) {
      logger[level]("request", { requestId, method, path, route, status, durationMs: Math.round(seconds * 1e6) / 1000 });
    }
    return answer;
  };

  const dispatch = app.fetch;
  // The SPEC's contract around every request: request id and hash headers, refusals, metrics and
  // the access log. Synchronous when the route's answer is: no promise is made for it. (No
  // closure is made per request either.)
  app.fetch = function contract(request: Request, env?: unknown, executionContext?: unknown): Response | Promise<Response> {
    const start = performance.now();
    const incoming = headerOf(request, env, "x-request-id");
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    const outgoing = (env as NodeBindings | undefined)?.outgoing;
    // On Node's response, the headers reach every answer (raw Responses and 500s included).
    if (outgoing instanceof ContractResponse) {
      outgoing.requestId = requestId;
    } else if (outgoing !== undefined) {
      outgoing.setHeader(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
      outgoing.setHeader(REQUEST_ID_HEADER, requestId);
    }
    const method = request.method;
    const path = NodeRequest.path(request);
    const refused = refusal(request, env, method, path);
    const state: KitState = { requestId, start, method, path, refused: refused !== undefined, plain: outgoing === undefined, context: undefined, route: UNMATCHED_ROUTE };
    if (refused !== undefined) return finish(state, refused);
    // The kit's Node listener makes a fresh bindings object per request: the state rides on it.
    // Anyone else's (app.request in tests) is copied, as it may be shared.
    const bindings = outgoing !== undefined ? (env as Record<symbol, unknown>) : { ...(env as object) };
    bindings[KIT_STATE] = state;
    const answer = dispatch(request, bindings, executionContext as never);
    return answer instanceof Promise ? answer.then((response) => finish(state, response)) : finish(state, answer);
  } as typeof app.fetch;

  // The pattern of the route a refused request would have reached (HEAD is routed as GET).
  const routeOf = (method: string, path: string): string => router.routeOf(method === "HEAD" ? "GET" : method, path) ?? UNMATCHED_ROUTE;

  app.get("/health", async (c) => {
    const reports = await checkDependencies(dependencies);
    return c.json({
      status: reports.every((r) => r.status === "ok") ? "ok" : "degraded",
      service,
      version,
      environment: config.environment,
      constitutionalHash: CONSTITUTIONAL_HASH,
      hashStrict: config.hashStrict,
      authRequired: config.authRequired,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      dependencies: reports,
    });
  });

  app.get("/ready", async (c) => {
    if (draining()) {
      return c.json({ status: "not ready", service, constitutionalHash: CONSTITUTIONAL_HASH, reason: "shutting down" }, 503);
    }
    const reports = await checkDependencies(required);
    const down = reports.filter((r) => r.status !== "ok");
    return c.json(
      {
        status: down.length === 0 ? "ready" : "not ready",
        service,
        constitutionalHash: CONSTITUTIONAL_HASH,
        ...(down.length > 0 ? { reason: `required dependency down: ${down.map((d) => d.name).join(", ")}` } : {}),
        dependencies: reports,
      },
      down.length === 0 ? 200 : 503,
    );
  });

  app.get("/metrics", async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "Content-Type": metrics.registry.contentType });
  });

  app.notFound((c) => {
    c.set("unmatched", true);
    return c.json({ error: "not found", method: c.req.method, path: c.req.path }, 404);
  });

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: error.message || "bad request" }, error.status);
    }
    const unavailable = asDependencyUnavailable(error);
    if (unavailable) {
      logger.warn("dependency unavailable", { requestId: c.get("requestId"), dependency: unavailable.dependency, reason: unavailable.reason });
      c.header("Retry-After", String(unavailable.retryAfterSeconds));
      return c.json({ error: "dependency unavailable", dependency: unavailable.dependency, requestId: c.get("requestId") }, 503);
    }
    const requestId = c.get("requestId");
    logger.error("unhandled error", { requestId, method: c.req.method, path: c.req.path, error });
    return c.json({ error: "internal server error", requestId }, 500);
  });

  return app;
}

const KIT_STATE = Symbol("acgs kit request state");

interface KitState {
  readonly requestId: string;
  /** performance.now() at arrival. */
  readonly start: number;
  readonly method: string;
  readonly path: string;
  /** Answered by the contract itself (429, 403, 413) before routing. */
  readonly refused: boolean;
  /** No Node response to put the contract's headers on (app.request): they go on the Response. */
  readonly plain: boolean;
  /** The request's Context, once its first handler runs. */
  context: Context | undefined;
  /** Then: the pattern of the last route the request matched (its metrics label). */
  route: string;
}

interface NodeBindings {
  outgoing?: ServerResponse;
}

function kitState(c: Context): KitState {
  return (c.env as { [KIT_STATE]: KitState })[KIT_STATE];
}

/** The Content-Length of a request that is not chunked, undefined when it is not known up front. */
function declaredLength(request: Request, env: unknown): number | undefined {
  if (headerOf(request, env, "transfer-encoding") !== undefined) return undefined;
  const length = headerOf(request, env, "content-length");
  // Node's HTTP parser has refused a malformed or repeated Content-Length already.
  return length === undefined ? undefined : Number(length);
}

function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/** Without Node's response to set them on (app.request), the contract's headers go on the Response. */
function withContractHeaders(response: Response, requestId: string): Response {
  let answer = response;
  try {
    answer.headers.set(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
  } catch {
    // Immutable headers (a fetched or redirect Response): answer with a copy.
    answer = new Response(response.body, response);
    answer.headers.set(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
  }
  answer.headers.set(REQUEST_ID_HEADER, requestId);
  return answer;
}

