// A service as the service tests start it: its routes on a real loopback port, quiet logs (unless
// the test captures them), no rate limit (tests send bursts), and whatever configuration
// variables the test adds.
import type { ServiceName } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { silentLogger, type Logger } from "../../services/kit/logger";
import type { ServiceApp } from "../../services/kit/service-app";
import type { ServiceContext } from "../../services/kit/service-context";
import { startService, type ServiceHandle } from "../../services/kit/start-service";

export function startTestService(
  name: ServiceName,
  routes: (app: ServiceApp, context: ServiceContext) => void,
  env: Record<string, string> = {},
  {
    port = 0,
    logger = silentLogger,
  }: {
    /** A fixed port, to restart a service where its peers expect it; 0 picks a free one. */
    port?: number;
    /** Where its log lines go: a test that reads them passes its own. */
    logger?: Logger;
  } = {},
): Promise<ServiceHandle> {
  return startService({
    config: loadConfig(name, { RATE_LIMIT_PER_MINUTE: "0", ...env }),
    logger,
    hostname: "127.0.0.1",
    port,
    routes,
  });
}
