// The whole life of a service process: configuration (exit 1 with the message on stderr when it
// is bad), start, and a graceful stop on SIGTERM/SIGINT with exit 0.
import type { ServiceName } from "../catalog";
import { loadConfig, ServiceConfigError, type ServiceConfig } from "./config";
import type { ServiceApp } from "./service-app";
import type { ServiceContext } from "./service-context";
import { startService, type ServiceHandle } from "./start-service";

export async function runService(
  name: ServiceName,
  routes?: (app: ServiceApp, context: ServiceContext) => void,
): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadConfig(name);
  } catch (error) {
    process.stderr.write(`${error instanceof ServiceConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
  let handle: ServiceHandle;
  try {
    handle = await startService({ config, routes });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const stop = (signal: NodeJS.Signals) => {
    handle.context.logger.info("signal received", { signal });
    handle.shutdown().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`shutdown of "${name}" failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  // once: a second Ctrl-C falls back to the default and kills the process at once.
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
