// integrity on a real port against a real PostgreSQL 15: the hash chain, its verification, the
// append-only table, concurrent appends, tampering by a superuser, and PostgreSQL going away.
import { createHash } from "node:crypto";
import { Client } from "pg";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { chainHash } from "../../../services/integrity/chain-hash";
import { MAX_DETAILS_DEPTH } from "../../../services/integrity/entry-schema";
import { integrityRoutes } from "../../../services/integrity/routes";
import { expectGuardedWrite } from "../../support/guarded-write";
import { metricSample } from "../../support/metrics-text";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { waitUntil } from "../../support/wait-until";
import { startTestService } from "../../support/test-service";

type Json = any;
const HASH = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };
/** `depth` arrays nested in one another around a number. */
const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);

describe("integrity", () => {
  let postgres: PostgresServer;
  let service: ServiceHandle;
  let admin: Client;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = HASH) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
  };
  const append = (entry: unknown) => call("POST", "/api/v1/audit", entry);
  const verify = async () => (await call("GET", "/api/v1/audit/verify")).body;

  beforeAll(async () => {
    postgres = await startPostgres();
    service = await startTestService("integrity", integrityRoutes, { DATABASE_URL: postgres.url });
    admin = new Client({ connectionString: postgres.url });
    admin.on("error", () => {}); // the halt test drops this connection
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await admin?.end().catch(() => {});
    await service?.shutdown();
    await postgres?.stop();
  });

  it("reports an empty chain as valid", async () => {
    expect(await verify()).toEqual({ valid: true, length: 0, verified: 0, head: { sequence: 0, hash: "0".repeat(64) } });
  });

  it("chains entries: hash = SHA-256(previous hash || canonical JSON), stable through jsonb", async () => {
    // Written by hand: keys out of order, 2.50, 1e21 and -0, which jsonb stores differently.
    const raw = '{"decision":"deny","actor":"agent-7","action":"enforce","details":{"z":2.50,"a":{"y":[1e21,-0,"ü"],"b":null}}}';
    const first = await append(raw);
    expect(first.status).toBe(201);
    const e = first.body;
    expect(e).toMatchObject({ sequence: 1, actor: "agent-7", action: "enforce", decision: "deny", previous_hash: "0".repeat(64) });
    expect(e.recorded_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The canonical form, spelled out independently of the service's code.
    const canonical = `{"action":"enforce","actor":"agent-7","decision":"deny","details":{"a":{"b":null,"y":[1e+21,0,"ü"]},"z":2.5},"recorded_at":"${e.recorded_at}","sequence":1}`;
    expect(e.hash).toBe(createHash("sha256").update("0".repeat(64) + canonical).digest("hex"));

    const second = await append({ actor: "agent-8", action: "validate", decision: "allow" });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ sequence: 2, previous_hash: e.hash, details: {} });

    const listed = await call("GET", "/api/v1/audit?after=0&limit=10");
    expect(listed.status).toBe(200);
    expect(listed.body.entries).toEqual([e, second.body]);
    expect(listed.body.next_after).toBe(2);
    expect(await verify()).toMatchObject({ valid: true, length: 2, verified: 2, head: { sequence: 2, hash: second.body.hash } });
  });

  it("answers a bad body 400 naming the field, never storing it", async () => {
    const cases: [unknown, string][] = [
      [{ action: "a", decision: "allow" }, "actor"],
      [{ actor: "a", action: "b", decision: "" }, "decision"],
      [{ actor: "a", action: "b", decision: "allow", details: [1, 2] }, "details"],
      [{ actor: "a", action: "b", decision: "allow", details: { note: "nul \u0000 here" } }, "details.note"],
      [{ actor: "a\u0000", action: "b", decision: "allow" }, "actor"],
      [{ actor: 7, action: "b", decision: "allow" }, "actor"],
      // Unpaired surrogates would be stored as U+FFFD, and the entry would then verify as tampered.
      [{ actor: "a\ud800", action: "b", decision: "allow" }, "actor"],
      [{ actor: "a", action: "b", decision: "allow", details: { note: ["ok", "\udc00"] } }, "details.note.1"],
      [{ actor: "a", action: "b", decision: "allow", details: { ["k\ud800"]: 1 } }, "details.k\ud800"],
      [{ actor: "a", action: "b", decision: "allow", details: { k: nested(MAX_DETAILS_DEPTH) } }, `details.k${".0".repeat(MAX_DETAILS_DEPTH - 1)}`],
    ];
    for (const [body, field] of cases) {
      const res = await append(body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    const unknown = await append({ actor: "a", action: "b", decision: "allow", severity: "high" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields[0].message).toContain("severity");
    // JSON.parse reads 1e999 as Infinity, which JSON cannot hold.
    const infinite = await append('{"actor":"a","action":"b","decision":"allow","details":{"n":1e999}}');
    expect(infinite.body.fields).toEqual([{ path: "details.n", message: "must be a finite number" }]);
    const malformed = await append("{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe("malformed JSON body");
    expect((await call("GET", "/api/v1/audit?limit=0")).body.fields[0].path).toBe("limit");
    expect((await call("GET", "/api/v1/audit?after=-1")).body.fields[0].path).toBe("after");
    expect((await verify()).length).toBe(2);
  });

  it("refuses a wrong constitutional hash with 403", async () => {
    const res = await call("POST", "/api/v1/audit", { actor: "a", action: "b", decision: "allow" }, { "X-Constitutional-Hash": "0123456789abcdef" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ expected: CONSTITUTIONAL_HASH, received: "0123456789abcdef" });
    expect((await verify()).length).toBe(2);
  });

  it("keeps the chain valid under 60 concurrent appends", async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => append({ actor: `agent-${i % 5}`, action: "enforce", decision: i % 2 ? "allow" : "deny", details: { i } })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const sequences = results.map((r) => r.body.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: 60 }, (_, i) => i + 3));
    const report = await verify();
    expect(report).toMatchObject({ valid: true, length: 62, verified: 62 });
    // Each acknowledged entry is in the chain exactly as acknowledged.
    const stored = (await call("GET", "/api/v1/audit?after=2&limit=1000")).body.entries;
    expect(stored).toEqual(results.map((r) => r.body).sort((a, b) => a.sequence - b.sequence));
  });

  it("refuses UPDATE, DELETE and TRUNCATE in SQL, whoever asks", async () => {
    await expect(admin.query("UPDATE audit_entries SET decision = 'allow' WHERE sequence = 1")).rejects.toMatchObject({ code: "42501" });
    await expect(admin.query("DELETE FROM audit_entries WHERE sequence = 62")).rejects.toMatchObject({ code: "42501" });
    await expect(admin.query("TRUNCATE audit_entries")).rejects.toMatchObject({ code: "42501" });
    expect((await verify()).valid).toBe(true);
  });

  describe("tampering by a superuser who bypasses the trigger", () => {
    // session_replication_role = replica skips ordinary triggers; only a superuser may set it.
    const bypass = async (sql: string, params: unknown[] = []) => {
      await admin.query("SET session_replication_role = replica");
      try {
        return await admin.query(sql, params);
      } finally {
        await admin.query("SET session_replication_role = DEFAULT");
      }
    };

    it("reports an edited entry as the first broken link", async () => {
      const before = (await admin.query("SELECT decision, hash FROM audit_entries WHERE sequence = 17")).rows[0];
      await bypass("UPDATE audit_entries SET decision = $1 WHERE sequence = 17", [before.decision === "allow" ? "deny" : "allow"]);
      const report = await verify();
      expect(report).toMatchObject({ valid: false, length: 62, verified: 16 });
      expect(report.first_broken).toEqual({ sequence: 17, reason: "hash mismatch", expected: expect.stringMatching(/^[0-9a-f]{64}$/), actual: before.hash });
      expect(report.first_broken.expected).not.toBe(before.hash);
      await bypass("UPDATE audit_entries SET decision = $1 WHERE sequence = 17", [before.decision]);
      expect((await verify()).valid).toBe(true);
    });

    it("reports an edit whose hash was recomputed at the next link", async () => {
      const original = (await call("GET", "/api/v1/audit?after=29&limit=1")).body.entries[0];
      const forged = chainHash(original.previous_hash, { ...original, details: { i: 999 } });
      await bypass("UPDATE audit_entries SET details = '{\"i\": 999}', hash = $1 WHERE sequence = 30", [forged]);
      expect((await verify()).first_broken).toEqual({ sequence: 31, reason: "previous_hash mismatch", expected: forged, actual: original.hash });
      await bypass("UPDATE audit_entries SET details = $1, hash = $2 WHERE sequence = 30", [original.details, original.hash]);
      expect((await verify()).valid).toBe(true);
    });

    it("reports a deleted entry as missing", async () => {
      const row = (await admin.query("SELECT * FROM audit_entries WHERE sequence = 40")).rows[0];
      await bypass("DELETE FROM audit_entries WHERE sequence = 40");
      expect((await verify()).first_broken).toEqual({ sequence: 40, reason: "entry missing", expected: null, actual: null });
      await bypass(
        "INSERT INTO audit_entries (sequence, actor, action, decision, details, recorded_at, previous_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        [row.sequence, row.actor, row.action, row.decision, row.details, row.recorded_at, row.previous_hash, row.hash],
      );
      expect((await verify()).valid).toBe(true);
    });
  });

  it("answers appends 503 with Retry-After while PostgreSQL is down and loses no acknowledged entry", async () => {
    const acknowledged: Json[] = [];
    const refused: { status: number; retryAfter: string | null }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const res = await append({ actor: `writer-${w}`, action: "enforce", decision: "deny", details: { i } }).catch(() => undefined);
        if (res?.status === 201) acknowledged.push(res.body);
        else if (res) refused.push({ status: res.status, retryAfter: res.headers.get("retry-after") });
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    const waitFor = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => acknowledged.length >= 20);
    await postgres.halt();
    try {
      await waitFor(() => refused.length >= 8);
      expect((await fetch(`${service.url}/ready`)).status).toBe(503);
    } finally {
      await postgres.resume();
    }
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 20);
    stop = true;
    await Promise.all(writers);

    expect(refused.length).toBeGreaterThanOrEqual(8);
    for (const r of refused) expect(r).toEqual({ status: 503, retryAfter: "5" });
    const report = await verify();
    expect(report.valid).toBe(true);
    const stored = new Map<string, Json>();
    for (let after = 0; ; ) {
      const page = (await call("GET", `/api/v1/audit?after=${after}&limit=1000`)).body;
      for (const entry of page.entries) stored.set(entry.hash, entry);
      if (page.entries.length < 1000) break;
      after = page.next_after;
    }
    for (const entry of acknowledged) expect(stored.get(entry.hash)).toEqual(entry);
    expect(report.length).toBe(stored.size);
  }, 60_000);

  // A connection of its own: the halt test above has dropped `admin`'s.
  const superuser = async () => {
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    return client;
  };
  const metric = async (url: string, name: string) => metricSample(await (await fetch(`${url}/metrics`)).text(), name);
  const appendTo = async (url: string, entry: unknown) => {
    const res = await fetch(`${url}/api/v1/audit`, { method: "POST", headers: { ...HASH, "Content-Type": "application/json" }, body: JSON.stringify(entry) });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it("answers appends only once their batch is committed, and fails every append of a failed batch", async () => {
    // A batch fails in SQL here because of a constraint added for the test: the input checks leave
    // no entry that could fail on its own.
    const locker = await superuser();
    await locker.query("ALTER TABLE audit_entries ADD CONSTRAINT test_refuses_poison CHECK (actor <> 'poison') NOT VALID");
    try {
      const batchesBefore = (await metric(service.url, "acgs_audit_batches_total"))!;
      const appendsBefore = (await metric(service.url, "acgs_audit_batched_appends_total"))!;
      // Holding the chain head's lock keeps the first batch from committing.
      await locker.query("BEGIN");
      await locker.query("SELECT * FROM audit_chain_head FOR UPDATE");
      let blockerAnswered = false;
      const blocker = append({ actor: "blocker", action: "enforce", decision: "allow" }).finally(() => (blockerAnswered = true));
      await waitUntil("the first batch to be written", async () => (await metric(service.url, "acgs_audit_batches_total")) === batchesBefore + 1, { timeoutMs: 10_000, intervalMs: 10 });
      const batched = ["good-1", "poison", "good-2"].map((actor) => append({ actor, action: "enforce", decision: "allow" }));
      await waitUntil("three appends waiting", async () => (await metric(service.url, "acgs_audit_appends_waiting")) === 3, { timeoutMs: 10_000, intervalMs: 10 });
      expect(blockerAnswered).toBe(false);
      await locker.query("COMMIT");

      const first = await blocker;
      expect(first.status).toBe(201);
      expect((await Promise.all(batched)).map((r) => r.status)).toEqual([500, 500, 500]);
      expect(await metric(service.url, "acgs_audit_batches_total")).toBe(batchesBefore + 2);
      expect(await metric(service.url, "acgs_audit_batched_appends_total")).toBe(appendsBefore + 4);
      // None of the failed batch is stored; the chain goes on from the blocker.
      expect((await call("GET", `/api/v1/audit?after=${first.body.sequence}`)).body.entries).toEqual([]);
      expect(await verify()).toMatchObject({ valid: true, head: { sequence: first.body.sequence, hash: first.body.hash } });
      // At the depth limit, details are accepted.
      const next = await append({ actor: "good-3", action: "enforce", decision: "allow", details: { k: nested(MAX_DETAILS_DEPTH - 1) } });
      expect(next.body).toMatchObject({ sequence: first.body.sequence + 1, previous_hash: first.body.hash });
    } finally {
      await locker.query("ROLLBACK"); // a no-op unless the test failed while holding the lock
      await locker.query("ALTER TABLE audit_entries DROP CONSTRAINT test_refuses_poison");
      await locker.end();
    }
  });

  it("keeps one valid chain when two instances on one PostgreSQL append in batches at the same time", async () => {
    const second = await startTestService("integrity", integrityRoutes, { DATABASE_URL: postgres.url });
    const db = await superuser();
    try {
      const before = (await verify()).length;
      const instances = [service.url, second.url];
      const results = await Promise.all(
        Array.from({ length: 160 }, (_, i) => appendTo(instances[i % 2], { actor: `instance-${i % 2}`, action: "enforce", decision: "allow", details: { i } })),
      );
      expect(results.every((r) => r.status === 201)).toBe(true);
      const sequences = results.map((r) => r.body.sequence).sort((a, b) => a - b);
      expect(sequences).toEqual(Array.from({ length: 160 }, (_, i) => before + i + 1));
      expect(await verify()).toMatchObject({ valid: true, length: before + 160, verified: before + 160 });
      const stored = (await call("GET", `/api/v1/audit?after=${before}&limit=1000`)).body.entries;
      expect(stored).toEqual(results.map((r) => r.body).sort((a, b) => a.sequence - b.sequence));

      // Both instances committed batches of several entries (one transaction id per batch)...
      const batches = await db.query<{ actor: string; size: number }>(
        "SELECT min(actor) AS actor, count(*)::int AS size FROM audit_entries WHERE sequence > $1 GROUP BY xmin::text",
        [before],
      );
      for (const actor of ["instance-0", "instance-1"]) {
        expect(batches.rows.filter((b) => b.actor === actor && b.size > 1).length).toBeGreaterThan(0);
      }
      // ...and found the chain head moved by the other, then linked their batch again.
      const moved = (await metric(service.url, "acgs_audit_head_moved_total"))! + (await metric(second.url, "acgs_audit_head_moved_total"))!;
      expect(moved).toBeGreaterThan(0);
    } finally {
      await db.end();
      await second.shutdown();
    }
  });

  it("needs a worker's token (level 5) to write where auth is required; reads need none", () =>
    expectGuardedWrite({
      service: "integrity",
      databaseUrl: postgres.url,
      routes: integrityRoutes,
      path: "/api/v1/audit",
      body: { actor: "agent-1", action: "enforce", decision: "allow" },
      below: "observer",
      required: "worker",
      acceptedStatus: 201,
      readPath: "/api/v1/audit",
    }));
});
