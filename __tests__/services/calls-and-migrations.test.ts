// Service-to-service calls, dependency failures as 503 with Retry-After, and migrations, against
// real servers: a peer service on a real port and a real PostgreSQL 15.
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { migrate } from "../../services/kit/migrations";
import { createServiceApp } from "../../services/kit/service-app";
import { createServiceClient } from "../../services/kit/service-client";
import { openServiceContext, type ServiceContext } from "../../services/kit/service-context";
import { startService, type ServiceHandle } from "../../services/kit/start-service";
import { DependencyUnavailableError } from "../../services/kit/unavailable";
import { freePort } from "../support/free-port";
import { startPostgres, type PostgresServer } from "../support/postgres";

describe("calls to another service", () => {
  let peer: ServiceHandle;
  const seen: Record<string, string | undefined>[] = [];

  beforeAll(async () => {
    // formal-verification (stateless) answering on a real port, recording what reached it.
    peer = await startService({
      config: loadConfig("formal-verification", { RATE_LIMIT_PER_MINUTE: "0" }),
      logger: silentLogger,
      hostname: "127.0.0.1",
      port: 0,
      routes: (app) => {
        app.post("/api/v1/entries", async (c) => {
          seen.push({ hash: c.req.header("X-Constitutional-Hash"), requestId: c.req.header("X-Request-Id") });
          return c.json({ stored: await c.req.json() }, 201);
        });
        app.get("/api/v1/slow", async (c) => {
          await new Promise((r) => setTimeout(r, 500));
          return c.json({ late: true });
        });
        app.get("/api/v1/broken", (c) => c.json({ error: "boom" }, 500));
      },
    });
  }, 60_000);

  afterAll(() => peer?.shutdown());

  const synthesis = (url: string) =>
    loadConfig("governance-synthesis", { SERVICE_URL_FORMAL_VERIFICATION: url, RATE_LIMIT_PER_MINUTE: "0" });

  it("carries the constitutional hash and the request id", async () => {
    const client = createServiceClient(synthesis(peer.url), "formal-verification");
    const response = await client.call("/api/v1/entries", { body: { topic: "t" }, requestId: "req-42" });
    expect(response).toEqual({ status: 201, body: { stored: { topic: "t" } } });
    expect(seen.at(-1)).toEqual({ hash: CONSTITUTIONAL_HASH, requestId: "req-42" });
  });

  it("turns a refused connection, a timeout and a 5xx into DependencyUnavailableError naming the peer", async () => {
    const down = createServiceClient(synthesis(`http://127.0.0.1:${await freePort()}`), "formal-verification");
    await expect(down.call("/api/v1/entries")).rejects.toThrow(/formal-verification is unavailable: \/api\/v1\/entries: ECONNREFUSED/);
    const client = createServiceClient(synthesis(peer.url), "formal-verification");
    await expect(client.call("/api/v1/slow", { timeoutMs: 100 })).rejects.toThrow(/no answer within 100 ms/);
    await expect(client.call("/api/v1/broken")).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it("refuses a peer the catalog does not list", () => {
    expect(() => createServiceClient(synthesis(peer.url), "auth")).toThrow(/"governance-synthesis" does not call "auth"/);
  });

  it("answers 503 with Retry-After when a route's dependency is down", async () => {
    const config = synthesis(`http://127.0.0.1:${await freePort()}`);
    const app = createServiceApp({ config, logger: silentLogger });
    const client = createServiceClient(config, "formal-verification");
    app.post("/api/v1/synthesize", async (c) => c.json((await client.call("/api/v1/entries", { body: {} })).body));
    const res = await app.request("/api/v1/synthesize", { method: "POST", headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH } });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await res.json()).toEqual({ error: "dependency unavailable", dependency: "formal-verification", requestId: expect.any(String) });
  });
});

describe("PostgreSQL down and migrations, on a real PostgreSQL", () => {
  let postgres: PostgresServer;
  let contexts: ServiceContext[] = [];
  const open = () => {
    const context = openServiceContext(loadConfig("integrity", { DATABASE_URL: postgres.url, RATE_LIMIT_PER_MINUTE: "0" }), { logger: silentLogger });
    contexts.push(context);
    return context;
  };

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await postgres?.stop();
  });

  const migrations = [
    { id: "001-create-notes", sql: "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)" },
    { id: "002-add-author", sql: "ALTER TABLE notes ADD COLUMN author text" },
  ];

  it("applies each migration once, even from replicas starting together", async () => {
    const [a, b] = [open(), open()];
    const results = await Promise.all([migrate(a.database!, "integrity", migrations), migrate(b.database!, "integrity", migrations)]);
    expect(results.flat().sort()).toEqual(["001-create-notes", "002-add-author"]);
    expect(await migrate(a.database!, "integrity", migrations)).toEqual([]);
    const columns = await a.database!.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'notes' ORDER BY column_name",
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual(["author", "body", "id"]);
  });

  it("runs a migration of several statements", async () => {
    const multi = [{ id: "003-two-tables", sql: "CREATE TABLE a (id int); CREATE TABLE b (id int); INSERT INTO a VALUES (1)" }];
    expect(await migrate(open().database!, "integrity-multi", multi)).toEqual(["003-two-tables"]);
    const { rows } = await open().database!.query<{ n: number }>("SELECT count(*)::int AS n FROM a");
    expect(rows).toEqual([{ n: 1 }]);
  });

  it("refuses a migration listed twice", async () => {
    await expect(migrate(open().database!, "integrity", [migrations[0], migrations[0]])).rejects.toThrow(/"001-create-notes" is listed twice/);
  });

  it("answers a write 503 with Retry-After while PostgreSQL is down, and takes writes again after", async () => {
    const context = open();
    const app = createServiceApp(context);
    app.post("/api/v1/notes", async (c) => {
      const { rows } = await context.database!.query<{ id: number }>("INSERT INTO notes (body) VALUES ($1) RETURNING id", ["n"]);
      return c.json({ id: rows[0].id }, 201);
    });
    const write = () => app.request("/api/v1/notes", { method: "POST", headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH } });
    expect((await write()).status).toBe(201);
    await postgres.halt();
    try {
      const res = await write();
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("5");
      expect(await res.json()).toMatchObject({ error: "dependency unavailable", dependency: "postgres" });
      expect((await app.request("/ready")).status).toBe(503);
    } finally {
      await postgres.resume();
    }
    expect((await write()).status).toBe(201);
  }, 60_000);
});
