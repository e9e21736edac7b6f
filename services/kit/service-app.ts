// The Hono app every service starts from: the SPEC's contract (hash header and guard, /health,
// /ready, /metrics, JSON errors, body limit, rate limit, request ids, access logs) in one place;
// a service only adds its routes to the returned app.
import { randomUUID } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { version as packageVersion } from "../../package.json";
import { CONSTITUTIONAL_HASH } from "../catalog";
import type { ServiceConfig } from "./config";
import { checkDependencies, type Dependency } from "./dependency";
import { CONSTITUTIONAL_HASH_HEADER, constitutionalHashGuard } from "./hash-guard";
import { createLogger, type Logger } from "./logger";
import { createServiceMetrics, type ServiceMetrics } from "./metrics";
import { rateLimit } from "./rate-limit";
import { asDependencyUnavailable } from "./unavailable";
import { mayHaveBody, requestHeader } from "./request-header";
import { declaredBodyLength } from "./request-body";
import type { Principal } from "./access-token";
import type { TokenGate } from "./require-level";
import { createTokenVerifier, type TokenVerifier } from "./token-verifier";

export const REQUEST_ID_HEADER = "X-Request-Id";

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
// Probes and scrapes come every few seconds; their access logs are debug noise.
const QUIET_ROUTES = new Set(["/health", "/ready", "/metrics"]);
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

  const app = new Hono<ServiceEnv>();
  // The kit's own middleware, skipped when looking for the route a request matched.
  const kitHandlers = new Set<unknown>();
  const use = (path: string, handler: MiddlewareHandler<ServiceEnv>) => {
    kitHandlers.add(handler);
    app.use(path, handler);
  };

  use("*", async function contract(c, next) {
    const start = performance.now();
    const incoming = requestHeader(c, "x-request-id");
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("tokenGate", tokenGate);
    // Set before next(): every response built through c.* (errors and 404 included) carries them.
    c.header(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
    c.header(REQUEST_ID_HEADER, requestId);
    await next();
    // A handler returning a raw Response bypasses the prepared headers.
    if (c.res.headers.get(CONSTITUTIONAL_HASH_HEADER) !== CONSTITUTIONAL_HASH) {
      c.header(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
      c.header(REQUEST_ID_HEADER, requestId);
    }
    const status = c.res.status;
    const seconds = (performance.now() - start) / 1000;
    const route = routeLabel(c, kitHandlers);
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    metrics.observeRequest(route, method, status, seconds);
    const level = QUIET_ROUTES.has(route) ? "debug" : "info";
    if (logger.enabled(level)) {
      logger[level]("request", {
        requestId,
        method: c.req.method,
        path: c.req.path,
        route,
        status,
        durationMs: Math.round(seconds * 1e6) / 1000,
      });
    }
  });

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

  use("*", rateLimit({ perMinute: config.rateLimitPerMinute, burst: config.rateLimitBurst }));
  use("/api/*", constitutionalHashGuard({ strict: config.hashStrict, metrics }));
  const bodyTooLarge = (c: Context) => c.json({ error: "request body too large", limitBytes: config.bodyLimitBytes }, 413);
  const limitBody = bodyLimit({
    maxSize: config.bodyLimitBytes,
    onError: bodyTooLarge,
  });
  use("*", function bodyLimitWhenBody(c, next) {
    // Looking at req.body would make @hono/node-server build a full Request and AbortController.
    // A declared length is checked from Node's headers, before any byte is read.
    const declared = declaredBodyLength(c);
    if (declared !== undefined) return declared > config.bodyLimitBytes ? Promise.resolve(bodyTooLarge(c)) : next();
    return mayHaveBody(c) ? limitBody(c, next) : next();
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

// The pattern of the last matched route that is not kit middleware: the service's route, even
// when the kit answered first (403, 413, 429).
function routeLabel(c: Context<ServiceEnv>, kitHandlers: ReadonlySet<unknown>): string {
  if (c.get("unmatched")) return UNMATCHED_ROUTE;
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (!kitHandlers.has(routes[i].handler)) return routes[i].path;
  }
  return UNMATCHED_ROUTE;
}
