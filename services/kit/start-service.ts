// Runs a service's app on a real port and stops it gracefully: stop accepting, let in-flight
// requests finish (bounded by SHUTDOWN_TIMEOUT_MS), then close the pools.
import type { AddressInfo } from "node:net";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { ServiceConfig } from "./config";
import { ContractResponse } from "./contract-response";
import type { Logger } from "./logger";
import { nodeListener } from "./node-listener";
import { createServiceApp, type ServiceApp } from "./service-app";
import { openServiceContext, type ServiceContext } from "./service-context";

export interface StartServiceOptions {
  readonly config: ServiceConfig;
  /** Default: opened from the configuration. Closed by shutdown() either way. */
  readonly context?: ServiceContext;
  readonly logger?: Logger;
  /** Adds the service's own routes, before the first request. */
  readonly routes?: (app: ServiceApp, context: ServiceContext) => void;
  /** Default: every interface (a container must be reachable from outside). */
  readonly hostname?: string;
  /** Overrides config.port (0: any free port). */
  readonly port?: number;
}

export interface ServiceHandle {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly app: ServiceApp;
  readonly context: ServiceContext;
  /** Idempotent; resolves once the server and the pools are closed. */
  shutdown(): Promise<void>;
}

export async function startService(options: StartServiceOptions): Promise<ServiceHandle> {
  const { config } = options;
  const context = options.context ?? openServiceContext(config, { logger: options.logger });
  const { logger } = context;
  let draining = false;
  const app = createServiceApp({
    config,
    logger,
    metrics: context.metrics,
    dependencies: context.dependencies,
    draining: () => draining,
  });
  options.routes?.(app, context);

  // ContractResponse adds the contract's headers as each answer is written (see its file). What
  // reaches the listener's 500 escaped Hono's onError (a non-Error thrown): it is logged here.
  const listener = nodeListener(app.fetch as never, {
    onError: (error, incoming) => logger.error("unhandled error outside the app", { method: incoming.method, path: incoming.url, error }),
  });
  const server = createServer({ ServerResponse: ContractResponse as typeof ServerResponse }, listener);
  try {
    await listen(server, options.port ?? config.port, options.hostname);
  } catch (error) {
    await context.close();
    throw new Error(`service "${config.service.name}" could not listen on port ${options.port ?? config.port}: ${(error as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  logger.info("service started", {
    port,
    environment: config.environment,
    hashStrict: config.hashStrict,
    authRequired: config.authRequired,
    database: context.database?.description ?? "none",
    cache: context.cache.kind,
  });
  context.opened().then(
    () => context.database && logger.info("database open", { database: context.database.description }),
    () => {},
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      draining = true;
      const started = performance.now();
      logger.info("shutting down", { timeoutMs: config.shutdownTimeoutMs });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // close() drops the sockets idle now; a socket whose request finishes later would stay
      // open for its keep-alive timeout, so drop newly idle ones as they appear.
      const sweeper = setInterval(() => server.closeIdleConnections(), 50);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs);
      });
      if ((await Promise.race([closed, deadline])) === "timeout") {
        // Past the deadline the busy connections go too.
        logger.warn("in-flight requests still running at the shutdown deadline; closing their connections");
        server.closeAllConnections();
        await closed;
      }
      clearTimeout(timer);
      clearInterval(sweeper);
      // Closing pools is bounded too: a hung database must not keep the process from exiting.
      let closeTimer: NodeJS.Timeout | undefined;
      const closeDeadline = new Promise<"timeout">((resolve) => {
        closeTimer = setTimeout(() => resolve("timeout"), Math.max(config.shutdownTimeoutMs, 1000));
      });
      if ((await Promise.race([context.close(), closeDeadline])) === "timeout") {
        logger.warn("database or cache connections did not close in time; exiting anyway");
      }
      clearTimeout(closeTimer);
      logger.info("stopped", { durationMs: Math.round(performance.now() - started) });
    })();
    return stopping;
  };

  return { port, url: `http://127.0.0.1:${port}`, app, context, shutdown };
}

function listen(server: Server, port: number, hostname?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, hostname, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
