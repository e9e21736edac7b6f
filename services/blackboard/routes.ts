// blackboard's routes: agents post entries under a topic and page through them with a cursor.
// A full page can never change (see store.ts), so full pages are cached (page-cache.ts); the
// last, partial page is always read fresh, which makes a write visible without any invalidation
// (requests for the same page share fresh reads: shared-reads.ts). Entries can also be posted
// many at once: the coordinator posts the tasks it assigned together in one call.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { createPageCache } from "./page-cache";
import { createSharedReads } from "../kit/shared-reads";
import { openBlackboardStore, type EntryPosition } from "./store";

const NAME = /^[A-Za-z0-9][\w.:/-]*$/;
const name = (max: number) =>
  z.string().max(max).regex(NAME, "must be letters, digits and _ . : / -, starting with a letter or digit");

const entrySchema = z.object({
  topic: name(200),
  agent_id: name(128),
  // PostgreSQL's jsonb cannot hold a NUL character; refusing it keeps it a 400.
  content: z.json().refine((c) => !JSON.stringify(c).includes("\\u0000"), "must not contain NUL characters"),
  tags: z.array(name(64)).max(32).default([]),
});

// Stored in one transaction, with ids in the order given.
const MAX_BATCH = 1000;
const batchSchema = z.object({ entries: z.array(entrySchema).min(1).max(MAX_BATCH) });

const CURSOR = /^(\d{1,20})-(\d{1,19})$/;
const XID8_MAX = 2n ** 64n - 1n;
const BIGINT_MAX = 2n ** 63n - 1n;

const pageQuery = z.object({
  topic: name(200).optional(),
  since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z" }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, "must be an integer from 1 to 500")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 500, "must be an integer from 1 to 500")
    .default(100),
  cursor: z
    .string()
    .refine((s) => position(s) !== undefined, "must be a next_cursor from an earlier page")
    .optional(),
});

const PAGE_TTL_SECONDS = 300;
// A fresh object per answer: the HTTP layer may add to the headers object it is given
// (Content-Length, the contract's headers), so a shared one would carry them into the next answer.
const jsonHeaders = () => ({ "Content-Type": "application/json" });

export function blackboardRoutes(app: ServiceApp, context: ServiceContext): void {
  if (!context.database) throw new Error("blackboard needs its database");
  const store = openBlackboardStore(context.database);
  const pages = createPageCache({ shared: context.cache, metrics: context.metrics, sharedTtlSeconds: PAGE_TTL_SECONDS });
  const reads = createSharedReads<string>();
  store.ready().catch((error: Error) => context.logger.warn("blackboard schema not applied yet", { error: error.message }));

  const worker = requireLevel(ROLE_LEVELS.worker);
  app.post("/api/v1/entries", worker, jsonBody(entrySchema), async (c) => c.json((await store.add([c.req.valid("json")]))[0], 201));
  app.post("/api/v1/entries/batch", worker, jsonBody(batchSchema), async (c) => c.json({ entries: await store.add(c.req.valid("json").entries) }, 201));

  app.get("/api/v1/entries", queryParams(pageQuery), async (c) => {
    const { topic, since, limit, cursor } = c.req.valid("query");
    const key = `page:${JSON.stringify([topic ?? null, since ?? null, cursor ?? null, limit])}`;
    const cached = await pages.get(key);
    if (cached !== undefined) return c.body(cached, 200, jsonHeaders());

    const body = await reads.read(key, async () => {
      const page = await store.page({ topic, since, limit, after: cursor === undefined ? undefined : position(cursor) });
      // Kept when the page is empty, so a poller waiting for new entries keeps its place.
      const nextCursor = page.lastCursor ?? cursor;
      const json = `{"entries":${page.entriesJson},"next_cursor":${nextCursor === undefined ? "null" : `"${nextCursor}"`}}`;
      pages.remember(key, json, page.count === limit);
      return json;
    });
    return c.body(body, 200, jsonHeaders());
  });
}

/** The position a cursor names, or undefined when it is not one (or out of PostgreSQL's range). */
function position(cursor: string): EntryPosition | undefined {
  const match = CURSOR.exec(cursor);
  if (!match || BigInt(match[1]) > XID8_MAX || BigInt(match[2]) > BIGINT_MAX) return undefined;
  return { xid: match[1], id: match[2] };
}
