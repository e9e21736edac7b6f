// Baseline: the fastest a Node.js server on this machine answers a small JSON body.
import { createServer } from "node:http";

const body = JSON.stringify({ status: "ok" });
createServer((_req, res) => {
  res.writeHead(200, { "Content-Type": "application/json", "X-Constitutional-Hash": "cdd01ef066bc6cf2" });
  res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
// An orderly exit, so that --cpu-prof writes its profile.
process.once("SIGTERM", () => process.exit(0));
