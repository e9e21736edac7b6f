// On a real server the contract's headers are added as Node writes each answer (ContractResponse):
// every kind of answer carries them exactly once, and an answer's own value wins.
import { request } from "node:http";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { startService, type ServiceHandle } from "../../services/kit/start-service";

let service: ServiceHandle;

beforeAll(async () => {
  service = await startService({
    config: loadConfig("formal-verification", { HASH_STRICT: "true", RATE_LIMIT_PER_MINUTE: "0" }),
    logger: silentLogger,
    hostname: "127.0.0.1",
    port: 0,
    routes: (app) => {
      app.get("/api/v1/json", (c) => c.json({ ok: true }));
      app.get("/api/v1/raw", () => new Response("raw", { status: 202, headers: { "Content-Type": "text/plain" } }));
      app.get("/api/v1/own-id", (c) => c.json({ ok: true }, 200, { "x-request-id": "set-by-route" }));
      app.get("/api/v1/boom", () => {
        throw new Error("a real bug");
      });
    },
  });
});

afterAll(() => service.shutdown());

/** The raw header lines of an answer, so a header sent twice shows twice. */
function rawHeaders(path: string, headers: Record<string, string> = {}): Promise<{ status: number; lines: [string, string][] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${service.url}${path}`, { headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...headers } }, (res) => {
      const lines: [string, string][] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, lines }));
    });
    req.on("error", reject);
    req.end();
  });
}

const values = (lines: [string, string][], name: string) => lines.filter(([n]) => n === name).map(([, v]) => v);
// services/kit/request-id.ts: a random prefix per process and a counter.
const GENERATED_ID = /^[0-9a-f]{16}-\d+$/;

describe("contract headers on a real server", () => {
  it.each([
    ["a JSON answer", "/api/v1/json", 200],
    ["a raw Response", "/api/v1/raw", 202],
    ["a 500", "/api/v1/boom", 500],
    ["a 404", "/api/v1/nowhere", 404],
    ["a probe", "/health", 200],
  ])("puts the hash and a generated request id on %s, once each", async (_what, path, status) => {
    const { status: got, lines } = await rawHeaders(path);
    expect(got).toBe(status);
    expect(values(lines, "x-constitutional-hash")).toEqual([CONSTITUTIONAL_HASH]);
    const ids = values(lines, "x-request-id");
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(GENERATED_ID);
  });

  it("echoes a safe incoming request id, and refuses to echo an unsafe one", async () => {
    expect(values((await rawHeaders("/api/v1/json", { "X-Request-Id": "trace-42" })).lines, "x-request-id")).toEqual(["trace-42"]);
    const unsafe = values((await rawHeaders("/api/v1/json", { "X-Request-Id": "bad id with spaces" })).lines, "x-request-id");
    expect(unsafe).toHaveLength(1);
    expect(unsafe[0]).toMatch(GENERATED_ID);
  });

  it("lets an answer's own request id header win instead of sending two", async () => {
    expect(values((await rawHeaders("/api/v1/own-id")).lines, "x-request-id")).toEqual(["set-by-route"]);
  });

  it("puts them on the contract's own refusal (wrong hash)", async () => {
    const { status, lines } = await rawHeaders("/api/v1/json", { "X-Constitutional-Hash": "0000000000000000" });
    expect(status).toBe(403);
    expect(values(lines, "x-constitutional-hash")).toEqual([CONSTITUTIONAL_HASH]);
    expect(values(lines, "x-request-id")[0]).toMatch(GENERATED_ID);
  });
});
