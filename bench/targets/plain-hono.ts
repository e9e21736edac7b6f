// Hono on @hono/node-server with no middleware: what the framework itself costs.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.json({ status: "ok" }));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" }, () => process.stdout.write("ready\n"));
// An orderly exit, so that --cpu-prof writes its profile.
process.once("SIGTERM", () => process.exit(0));
