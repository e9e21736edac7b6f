// The kit's contract path (hash guard, request id, metrics, rate limit, JSON errors) on a trivial
// route: what every service pays before its own work.
import { loadConfig } from "../../services/kit/config";
import { startService } from "../../services/kit/start-service";

void startService({
  config: loadConfig("formal-verification"),
  hostname: "127.0.0.1",
  routes: (app) => app.get("/api/v1/ping", (c) => c.json({ status: "ok" })),
}).then((handle) => {
  process.stdout.write("ready\n");
  // An orderly exit, so that --cpu-prof writes its profile.
  process.once("SIGTERM", () => void handle.shutdown().then(() => process.exit(0)));
});
