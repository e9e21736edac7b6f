// blackboard on a real port against a real PostgreSQL 15 and a real Redis: entries by topic,
// cursor pagination that neither skips nor repeats under concurrent writes (an insert still in
// flight included), the page cache, and PostgreSQL going away.
import { Client } from "pg";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { blackboardRoutes } from "../../../services/blackboard/routes";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { metricSample } from "../../support/metrics-text";
import { expectGuardedWrite } from "../../support/guarded-write";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startRedis, type RedisServer } from "../../support/redis";
import { waitUntil } from "../../support/wait-until";
import { startTestService } from "../../support/test-service";

type Json = any;
const HASH = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };

describe("blackboard", () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let service: ServiceHandle;
  let admin: Client;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = HASH) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
  };
  const post = (entry: unknown) => call("POST", "/api/v1/entries", entry);
  const list = (query: string) => call("GET", `/api/v1/entries?${query}`);
  const cacheHits = async () => metricSample(await (await fetch(`${service.url}/metrics`)).text(), "acgs_cache_hits_total") ?? 0;

  /** Every entry of `topic`, following next_cursor from `cursor` until a page comes back short. */
  const drain = async (topic: string, limit: number, cursor?: string) => {
    const seen: Json[] = [];
    for (;;) {
      const page = await list(`topic=${topic}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.entries);
      cursor = page.body.next_cursor;
      if (page.body.entries.length < limit) return { seen, cursor };
    }
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    service = await startTestService("blackboard", blackboardRoutes, { DATABASE_URL: postgres.url, REDIS_URL: redis.url });
    admin = new Client({ connectionString: postgres.url });
    admin.on("error", () => {}); // the halt test drops this connection
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await admin?.end().catch(() => {});
    await service?.shutdown();
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  it("stores an entry and lists entries by topic, in order", async () => {
    const a = await post({ topic: "plans", agent_id: "agent-1", content: { step: 1, text: "ü" }, tags: ["draft"] });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ id: expect.any(Number), topic: "plans", agent_id: "agent-1", content: { step: 1, text: "ü" }, tags: ["draft"], created_at: expect.any(String) });
    const b = await post({ topic: "plans", agent_id: "agent-2", content: "a plain string" });
    expect(b.body.tags).toEqual([]);
    await post({ topic: "other", agent_id: "agent-1", content: null });

    const page = await list("topic=plans");
    expect(page.status).toBe(200);
    expect(page.body.entries).toEqual([a.body, b.body]);
    expect(page.body.next_cursor).toMatch(/^\d+-\d+$/);
    // Nothing new: an empty page keeps the cursor.
    expect((await list(`topic=plans&cursor=${page.body.next_cursor}`)).body).toEqual({ entries: [], next_cursor: page.body.next_cursor });
    expect((await list("")).body.entries.map((e: Json) => e.topic)).toEqual(["plans", "plans", "other"]);
    expect((await list("topic=nobody")).body).toEqual({ entries: [], next_cursor: null });
  });

  it("filters by since", async () => {
    const { rows } = await admin.query("SELECT now() AS now");
    const entry = await post({ topic: "since", agent_id: "agent-1", content: { late: true } });
    expect((await list(`topic=since&since=${encodeURIComponent(rows[0].now.toISOString())}`)).body.entries).toEqual([entry.body]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await list(`topic=since&since=${future}`)).body.entries).toEqual([]);
  });

  it("answers a bad body or query 400 naming the field", async () => {
    const bodies: [unknown, string][] = [
      [{ agent_id: "a", content: {} }, "topic"],
      [{ topic: "has space", agent_id: "a", content: {} }, "topic"],
      [{ topic: "t", agent_id: "x".repeat(129), content: {} }, "agent_id"],
      [{ topic: "t", agent_id: "a" }, "content"],
      [{ topic: "t", agent_id: "a", content: { s: "nul \u0000" } }, "content"],
      [{ topic: "t", agent_id: "a", content: {}, tags: "urgent" }, "tags"],
      [{ topic: "t", agent_id: "a", content: {}, tags: ["ok", ""] }, "tags.1"],
    ];
    for (const [body, field] of bodies) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    const queries: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=ten", "limit"],
      ["cursor=abc", "cursor"],
      ["cursor=99999999999999999999-1", "cursor"],
      ["since=yesterday", "since"],
      ["topic=a%20b", "topic"],
    ];
    for (const [query, field] of queries) {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body.fields[0].path).toBe(field);
    }
    expect((await list("topic=t")).body.entries).toEqual([]);
  });

  it("needs a worker's token (level 5) to write where auth is required; reads need none", () =>
    expectGuardedWrite({
      service: "blackboard",
      databaseUrl: postgres.url,
      routes: blackboardRoutes,
      path: "/api/v1/entries",
      body: { topic: "guarded", agent_id: "agent-1", content: {} },
      below: "observer",
      required: "worker",
      acceptedStatus: 201,
      readPath: "/api/v1/entries",
    }));

  it("stores a batch of entries in one call, each with its own id in the batch's order", async () => {
    const batch = [
      { topic: "batch", agent_id: "agent-1", content: { n: 1 }, tags: ["first"] },
      { topic: "batch-other", agent_id: "agent-2", content: null },
      { topic: "batch", agent_id: "agent-3", content: ["two", { deep: true }] },
    ];
    const res = await call("POST", "/api/v1/entries/batch", { entries: batch });
    expect(res.status).toBe(201);
    const stored: Json[] = res.body.entries;
    expect(stored.map(({ topic, agent_id, content, tags }) => ({ topic, agent_id, content, tags }))).toEqual(batch.map((e) => ({ tags: [], ...e })));
    const ids = stored.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    // Listed as stored, and as a single POST answers.
    expect((await list("topic=batch")).body.entries).toEqual([stored[0], stored[2]]);
    const single = await post({ topic: "batch", agent_id: "agent-4", content: {} });
    expect(single.body.id).toBeGreaterThan(ids[2]);
    expect((await list("topic=batch")).body.entries).toEqual([stored[0], stored[2], single.body]);
  });

  it("answers a bad batch 400 naming the entry's field, and stores none of it", async () => {
    const good = { topic: "bad-batch", agent_id: "a", content: {} };
    const cases: [unknown, string][] = [
      [{}, "entries"],
      [{ entries: [] }, "entries"],
      [{ entries: "x" }, "entries"],
      [{ entries: Array.from({ length: 1001 }, () => good) }, "entries"],
      [{ entries: [good, { ...good, topic: "has space" }] }, "entries.1.topic"],
      [{ entries: [good, { ...good, content: { s: "nul \u0000" } }] }, "entries.1.content"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/v1/entries/batch", body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    expect((await list("topic=bad-batch")).body.entries).toEqual([]);
  });

  it("needs a worker's token (level 5) to write a batch where auth is required", () =>
    expectGuardedWrite({
      service: "blackboard",
      databaseUrl: postgres.url,
      routes: blackboardRoutes,
      path: "/api/v1/entries/batch",
      body: { entries: [{ topic: "guarded", agent_id: "agent-1", content: {} }] },
      below: "observer",
      required: "worker",
      acceptedStatus: 201,
      readPath: "/api/v1/entries",
    }));

  // The mechanism (reads shared, none older than its request) is proven in shared-reads.test.ts.
  it("answers many concurrent reads of a page, each holding every entry acknowledged before it was sent", async () => {
    await post({ topic: "polled", agent_id: "agent-1", content: { n: 0 } });
    const wave = () => Promise.all(Array.from({ length: 20 }, () => list("topic=polled")));
    const first = wave();
    // Acknowledged while the first wave may still be reading: every later read must hold it.
    const late = await post({ topic: "polled", agent_id: "agent-1", content: { n: 1 } });
    const second = await wave();
    for (const page of second) expect(page.body.entries.map((e: Json) => e.id)).toContain(late.body.id);
    for (const page of [...(await first), ...second]) {
      expect(page.status).toBe(200);
      expect(page.body.entries[0].content).toEqual({ n: 0 });
    }
  });

  it("refuses a wrong constitutional hash with 403", async () => {
    const res = await call("POST", "/api/v1/entries", { topic: "t", agent_id: "a", content: {} }, { "X-Constitutional-Hash": "ffffffffffffffff" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ expected: CONSTITUTIONAL_HASH, received: "ffffffffffffffff" });
  });

  it("does not page past an insert still in flight, and returns it once it commits", async () => {
    const start = await drain("flight", 10);
    // A writer that took its id first but commits last.
    await admin.query("BEGIN");
    const slow = (await admin.query("INSERT INTO blackboard_entries (topic, agent_id, content) VALUES ('flight', 'slow', '{}') RETURNING id")).rows[0];
    let committed = false;
    try {
      const fast = await post({ topic: "flight", agent_id: "fast", content: {} });
      expect(Number(fast.body.id)).toBeGreaterThan(Number(slow.id));
      // Ordered by id alone, this page would hold `fast` and its cursor would skip `slow` forever.
      const during = await drain("flight", 10, start.cursor ?? undefined);
      expect(during.seen).toEqual([]);
      await admin.query("COMMIT");
      committed = true;
      const after = await drain("flight", 10, during.cursor ?? undefined);
      expect(after.seen.map((e: Json) => e.agent_id)).toEqual(["slow", "fast"]);
    } finally {
      if (!committed) await admin.query("ROLLBACK");
    }
  });

  it("pages without gaps or duplicates while agents write concurrently", async () => {
    const written: number[] = [];
    let writing = true;
    const writers = Promise.all(
      [0, 1, 2, 3, 4].map(async (w) => {
        for (let i = 0; i < 30; i++) {
          const res = await post({ topic: "race", agent_id: `agent-${w}`, content: { w, i } });
          expect(res.status).toBe(201);
          written.push(res.body.id);
        }
      }),
    ).finally(() => (writing = false));
    const read: number[] = [];
    let cursor: string | undefined;
    // Poll the way an agent would, until the writers are done and one more page is drained.
    for (let more = true; more; ) {
      more = writing;
      const page = await drain("race", 7, cursor);
      read.push(...page.seen.map((e: Json) => e.id));
      cursor = page.cursor ?? undefined;
    }
    await writers;
    read.push(...(await drain("race", 7, cursor)).seen.map((e: Json) => e.id));
    expect(new Set(read).size).toBe(read.length);
    expect([...read].sort((a, b) => a - b)).toEqual([...written].sort((a, b) => a - b));
    expect(read.length).toBe(150);
  });

  it("serves full pages from Redis and never caches the last, partial page", async () => {
    for (let i = 0; i < 5; i++) await post({ topic: "cached", agent_id: "agent-1", content: { i } });
    const hits = await cacheHits();
    const full = await list("topic=cached&limit=3");
    expect(full.body.entries).toHaveLength(3);
    expect(await list("topic=cached&limit=3")).toMatchObject({ status: 200, body: full.body });
    expect(await cacheHits()).toBe(hits + 1);

    const partial = await list(`topic=cached&limit=3&cursor=${full.body.next_cursor}`);
    expect(partial.body.entries).toHaveLength(2);
    const sixth = await post({ topic: "cached", agent_id: "agent-1", content: { i: 5 } });
    const fresh = await list(`topic=cached&limit=3&cursor=${full.body.next_cursor}`);
    expect(fresh.body.entries.map((e: Json) => e.id)).toEqual([...partial.body.entries.map((e: Json) => e.id), sixth.body.id]);
    expect(await cacheHits()).toBe(hits + 1);
  });

  it("keeps answering with Redis down, the cache bypassed", async () => {
    await redis.halt();
    try {
      const first = await list("topic=cached&limit=3");
      expect(first.status).toBe(200);
      expect(first.body.entries).toHaveLength(3);
      expect((await post({ topic: "cached", agent_id: "agent-1", content: {} })).status).toBe(201);
    } finally {
      await redis.resume();
    }
    await waitUntil("redis back", async () => ((await (await fetch(`${service.url}/health`)).json()) as Json).status === "ok", { timeoutMs: 8000, intervalMs: 100 });
  }, 20_000);

  it("answers writes 503 with Retry-After while PostgreSQL is down and loses no acknowledged entry", async () => {
    const acknowledged: Json[] = [];
    const refused: { status: number; retryAfter: string | null }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const res = await post({ topic: "outage", agent_id: `agent-${w}`, content: { i } }).catch(() => undefined);
        if (res?.status === 201) acknowledged.push(res.body);
        else if (res) refused.push({ status: res.status, retryAfter: res.headers.get("retry-after") });
      }
    };
    const writers = [0, 1, 2].map(writer);
    const waitFor = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => acknowledged.length >= 20);
    await postgres.halt();
    try {
      await waitFor(() => refused.length >= 6);
      const read = await list("topic=outage");
      expect(read.status).toBe(503);
      expect((await fetch(`${service.url}/ready`)).status).toBe(503);
    } finally {
      await postgres.resume();
    }
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 20);
    stop = true;
    await Promise.all(writers);

    for (const r of refused) expect(r).toEqual({ status: 503, retryAfter: "5" });
    const stored = new Map((await drain("outage", 500)).seen.map((e: Json) => [e.id, e]));
    for (const entry of acknowledged) expect(stored.get(entry.id)).toEqual(entry);
  }, 60_000);
});
