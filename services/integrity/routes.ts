// integrity's routes: append to the audit chain, list it, verify it.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { verifyChain } from "./chain-verifier";
import { openAuditStore } from "./store";

const NUL = "\u0000";
// PostgreSQL text cannot hold NUL; refusing it here keeps it a 400 instead of a failed INSERT.
const label = (max: number) =>
  z.string().min(1).max(max).refine((s) => !s.includes(NUL), "must not contain NUL characters");

// Strict: a field the log would silently drop is a field the caller believes was recorded.
const auditEntrySchema = z.strictObject({
  actor: label(200),
  action: label(200),
  decision: label(100),
  details: z
    .record(z.string(), z.json())
    .refine((d) => !JSON.stringify(d).includes("\\u0000"), "must not contain NUL characters")
    .default({}),
});

const count = (max: number) =>
  z.string().regex(/^\d{1,15}$/, "must be a non-negative integer").transform(Number).pipe(z.number().max(max, `must be at most ${max}`));

const listQuery = z.object({
  after: count(Number.MAX_SAFE_INTEGER).default(0),
  limit: count(1000).pipe(z.number().min(1, "must be at least 1")).default(100),
});

export function integrityRoutes(app: ServiceApp, context: ServiceContext): void {
  if (!context.database) throw new Error("integrity needs its database");
  const store = openAuditStore(context.database);
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
