// blackboard's routes: agents post entries under a topic and page through them with a cursor.
// A full page can never change (see store.ts), so full pages are cached; the last, partial page
// is always read fresh, which makes a write visible without any invalidation.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
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

export function blackboardRoutes(app: ServiceApp, context: ServiceContext): void {
  if (!context.database) throw new Error("blackboard needs its database");
  const store = openBlackboardStore(context.database);
  const { cache } = context;
  store.ready().catch((error: Error) => context.logger.warn("blackboard schema not applied yet", { error: error.message }));

  app.post("/api/v1/entries", requireLevel(ROLE_LEVELS.worker), jsonBody(entrySchema), async (c) => c.json(await store.add(c.req.valid("json")), 201));

  app.get("/api/v1/entries", queryParams(pageQuery), async (c) => {
    const { topic, since, limit, cursor } = c.req.valid("query");
    const key = `page:${JSON.stringify([topic ?? null, since ?? null, cursor ?? null, limit])}`;
    const cached = await cache.get(key);
    if (cached !== undefined) return c.body(cached, 200, { "Content-Type": "application/json" });

    const page = await store.page({ topic, since, limit, after: cursor === undefined ? undefined : position(cursor) });
    const body = JSON.stringify({
      entries: page.entries,
      // Kept when the page is empty, so a poller waiting for new entries keeps its place.
      next_cursor: page.last ? `${page.last.xid}-${page.last.id}` : (cursor ?? null),
    });
    if (page.entries.length === limit) await cache.set(key, body, PAGE_TTL_SECONDS);
    return c.body(body, 200, { "Content-Type": "application/json" });
  });
}

/** The position a cursor names, or undefined when it is not one (or out of PostgreSQL's range). */
function position(cursor: string): EntryPosition | undefined {
  const match = CURSOR.exec(cursor);
  if (!match || BigInt(match[1]) > XID8_MAX || BigInt(match[2]) > BIGINT_MAX) return undefined;
  return { xid: match[1], id: match[2] };
}
