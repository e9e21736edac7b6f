// integrity's routes: append to the audit chain, list it, verify it.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { registerBatchMetrics } from "./batch-metrics";
import { verifyChain } from "./chain-verifier";
import { auditEntrySchema } from "./entry-schema";
import { openAuditStore } from "./store";

const count = (max: number) =>
  z.string().regex(/^\d{1,15}$/, "must be a non-negative integer").transform(Number).pipe(z.number().max(max, `must be at most ${max}`));

const listQuery = z.object({
  after: count(Number.MAX_SAFE_INTEGER).default(0),
  limit: count(1000).pipe(z.number().min(1, "must be at least 1")).default(100),
});

export function integrityRoutes(app: ServiceApp, context: ServiceContext): void {
  if (!context.database) throw new Error("integrity needs its database");
  const store = openAuditStore(context.database);
  registerBatchMetrics(context.metrics.registry, context.config.service.name, store.batching);
  // Apply the schema at start; a database still down is retried by the first request.
  store.ready().catch((error: Error) => context.logger.warn("audit schema not applied yet", { error: error.message }));

  app.post("/api/v1/audit", requireLevel(ROLE_LEVELS.worker), jsonBody(auditEntrySchema), async (c) => {
    const entry = await store.append(c.req.valid("json"));
    return c.json(entry, 201);
  });

  app.get("/api/v1/audit", queryParams(listQuery), async (c) => {
    const { after, limit } = c.req.valid("query");
    const entries = await store.list(after, limit);
    return c.json({ entries, next_after: entries.at(-1)?.sequence ?? after });
  });

  app.get("/api/v1/audit/verify", async (c) => c.json(await verifyChain(store)));
}
