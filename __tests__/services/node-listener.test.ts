// The kit's own Node listener (services/kit/node-listener.ts) over real sockets: bodies read,
// unread, streamed, too large or cut off; HEAD; handlers that throw or reject; headers with many
// values; request ids; the hash on every answer; connections kept alive across all of it.
import { Agent, request, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { z } from "zod";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { jsonBody } from "../../services/kit/json-body";
import { silentLogger, type Logger } from "../../services/kit/logger";
import { readBodyText } from "../../services/kit/request-body";
import { startService, type ServiceHandle } from "../../services/kit/start-service";
import { waitUntil } from "../support/wait-until";

const LIMIT = 64 * 1024;
// A stalled connection fails its test in seconds rather than at jest's default minute.
jest.setTimeout(10_000);
const REQUEST_ID = /^[0-9a-f]{16}-\d+$/;

let service: ServiceHandle;
let limited: ServiceHandle;
/** What handlers saw, for the tests to wait on. */
const events: string[] = [];
const errors: unknown[] = [];
const recordingLogger: Logger = { ...silentLogger, error: (_msg, fields) => void errors.push(fields?.error) };

beforeAll(async () => {
  service = await startService({
    config: loadConfig("formal-verification", { HASH_STRICT: "true", RATE_LIMIT_PER_MINUTE: "0", BODY_LIMIT_BYTES: String(LIMIT), SHUTDOWN_TIMEOUT_MS: "5000" }),
    logger: recordingLogger,
    hostname: "127.0.0.1",
    port: 0,
    routes: (app) => {
      app.post("/api/v1/echo", jsonBody(z.object({ name: z.string() })), (c) => c.json({ name: c.req.valid("json").name }, 201));
      app.post("/api/v1/ignore", (c) => c.json({ ignored: true }));
      // Through the WHATWG Request (body stream) rather than the kit's direct read.
      app.post("/api/v1/text", async (c) => c.json({ length: (await c.req.text()).length }));
      app.post("/api/v1/slow-read", async (c) => {
        events.push("slow-read started");
        try {
          await readBodyText(c);
          events.push("slow-read finished");
        } catch {
          events.push("slow-read failed");
        }
        return c.json({ ok: true });
      });
      app.get("/api/v1/wait-for-abort", async (c) => {
        const signal = c.req.raw.signal;
        events.push("waiting for abort");
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        events.push("aborted");
        return c.json({ ok: true });
      });
      app.get("/api/v1/items/:id", (c) => c.json({ id: c.req.param("id"), url: c.req.url, q: c.req.query("q") ?? null }));
      app.get("/api/v1/stream", () => {
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 5));
            if (sent === 3) return controller.close();
            controller.enqueue(new TextEncoder().encode(`chunk ${sent++};`));
          },
        });
        return new Response(body, { headers: { "Content-Type": "text/plain" } });
      });
      // Records when it handled a request and when the listener wrote its answer.
      app.get("/api/v1/turn/:n", (c) => {
        const n = c.req.param("n");
        events.push(`handled ${n}`);
        const { outgoing } = c.env as { outgoing: ServerResponse };
        const writeHead = outgoing.writeHead;
        outgoing.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
          events.push(`written ${n}`);
          return writeHead.apply(this, args);
        } as typeof writeHead;
        return c.json({ n });
      });
      app.get("/api/v1/bytes", () => new Response(new Uint8Array([1, 2, 3]), { headers: { "Content-Type": "application/octet-stream" } }));
      app.get("/api/v1/cookies", (c) => {
        c.header("Set-Cookie", "a=1; Path=/", { append: true });
        c.header("Set-Cookie", "b=2; Path=/", { append: true });
        return c.text("ok");
      });
      app.get("/api/v1/cookie-pairs", () => new Response("ok", { headers: [["Set-Cookie", "c=3"], ["Set-Cookie", "d=4"], ["Vary", "Accept"]] }));
      app.get("/api/v1/throw", () => {
        throw new Error("a synchronous bug");
      });
      app.get("/api/v1/reject", async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw new Error("an asynchronous bug");
      });
      app.get("/api/v1/throw-string", () => {
        // Not an Error: Hono hands it on instead of calling onError; the listener answers.
        throw "not an Error object";
      });
    },
  });
  limited = await startService({
    config: loadConfig("formal-verification", { HASH_STRICT: "true", RATE_LIMIT_PER_MINUTE: "1", RATE_LIMIT_BURST: "1" }),
    logger: silentLogger,
    hostname: "127.0.0.1",
    port: 0,
    routes: (app) => app.get("/api/v1/ping", (c) => c.json({ ok: true })),
  });
});

afterAll(async () => {
  await Promise.all([service?.shutdown(), limited?.shutdown()]);
});

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  /** The request went over a connection an earlier request used. */
  readonly reused: boolean;
}

interface Call {
  readonly method?: string;
  readonly headers?: Record<string, string | number>;
  /** Written in one piece, or chunk by chunk (no Content-Length: chunked). */
  readonly body?: string | Buffer | Buffer[];
  readonly agent?: Agent;
  readonly base?: ServiceHandle;
}

function call(path: string, { method = "GET", headers = {}, body, agent, base = service }: Call = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base.url}${path}`, { method, agent, headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

const json = (answer: Answer) => JSON.parse(answer.body.toString("utf8"));
const lines = (answer: Answer, name: string) => answer.rawHeaders.filter((_, i) => i % 2 === 1 && answer.rawHeaders[i - 1].toLowerCase() === name);

/** One connection at a time, kept open between requests. */
const oneConnection = () => new Agent({ keepAlive: true, maxSockets: 1 });

/** Sends raw bytes on a fresh connection; resolves with everything the server sent until it closed or `until` matched. */
function raw(bytes: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(service.port, "127.0.0.1", () => socket.write(bytes));
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (until?.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("request bodies", () => {
  it("hands a JSON body to a handler that reads it, over a connection that stays usable", async () => {
    const agent = oneConnection();
    try {
      const first = await call("/api/v1/echo", { method: "POST", agent, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "ada" }) });
      expect(first.status).toBe(201);
      expect(json(first)).toEqual({ name: "ada" });
      const second = await call("/api/v1/echo", { method: "POST", agent, headers: { "Content-Type": "application/json" }, body: "{}" });
      expect(second.status).toBe(400);
      expect(json(second).fields[0].path).toBe("name");
      expect(second.reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("reads a chunked body through the WHATWG Request too", async () => {
    const answer = await call("/api/v1/text", { method: "POST", body: [Buffer.from("abc"), Buffer.from("defg")] });
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ length: 7 });
  });

  it("answers without reading a large body, and the connection then serves the next request", async () => {
    const agent = oneConnection();
    try {
      // Well over a socket's and a stream's buffer (16 KiB), under the limit.
      const body = Buffer.alloc(LIMIT - 1024, "x");
      const ignored = await call("/api/v1/ignore", { method: "POST", agent, body, headers: { "Content-Length": body.length } });
      expect(ignored.status).toBe(200);
      expect(json(ignored)).toEqual({ ignored: true });
      const next = await call("/api/v1/items/7", { agent });
      expect(next.status).toBe(200);
      expect(json(next).id).toBe("7");
      expect(next.reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("refuses a chunked body over the limit with 413 and the hash, and keeps the connection", async () => {
    const agent = oneConnection();
    try {
      // 1 MiB: far more than the limit, and than what buffers between the server and the client
      // hold, so the connection is usable after the 413 only if the server reads the rest.
      const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, "y"));
      const refused = await call("/api/v1/echo", { method: "POST", agent, headers: { "Content-Type": "application/json" }, body: chunks });
      expect(refused.status).toBe(413);
      expect(json(refused)).toEqual({ error: "request body too large", limitBytes: LIMIT });
      expect(refused.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
      const next = await call("/api/v1/items/8", { agent });
      expect(next.status).toBe(200);
      expect(next.reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("refuses a declared length over the limit with 413 and the hash before reading it", async () => {
    const body = Buffer.alloc(LIMIT + 1, "z");
    const refused = await call("/api/v1/echo", { method: "POST", body, headers: { "Content-Type": "application/json", "Content-Length": body.length } });
    expect(refused.status).toBe(413);
    expect(refused.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
  });

  it("survives a client that goes away mid-body: the handler's read fails, the server goes on", async () => {
    const socket = connect(service.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      `POST /api/v1/slow-read HTTP/1.1\r\nHost: x\r\nX-Constitutional-Hash: ${CONSTITUTIONAL_HASH}\r\nContent-Length: 50000\r\n\r\n${"a".repeat(1000)}`,
    );
    await waitUntil("handler started", async () => events.includes("slow-read started"), { timeoutMs: 5000 });
    socket.destroy();
    await waitUntil("handler's read failed", async () => events.includes("slow-read failed"), { timeoutMs: 5000 });
    expect(events).not.toContain("slow-read finished");
    expect((await call("/api/v1/items/9")).status).toBe(200);
  });

  it("aborts the request's signal when the client goes away before the answer", async () => {
    const socket = connect(service.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`GET /api/v1/wait-for-abort HTTP/1.1\r\nHost: x\r\nX-Constitutional-Hash: ${CONSTITUTIONAL_HASH}\r\n\r\n`);
    await waitUntil("handler waiting", async () => events.includes("waiting for abort"), { timeoutMs: 5000 });
    socket.destroy();
    await waitUntil("signal aborted", async () => events.includes("aborted"), { timeoutMs: 5000 });
  });
});

describe("answers", () => {
  it("streams a ReadableStream body chunk by chunk (chunked encoding), with the contract's headers", async () => {
    const answer = await call("/api/v1/stream");
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe("chunk 0;chunk 1;chunk 2;");
    expect(answer.headers["transfer-encoding"]).toBe("chunked");
    expect(answer.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
    expect(answer.headers["x-request-id"]).toMatch(REQUEST_ID);
  });

  it("writes a byte body with its length", async () => {
    const answer = await call("/api/v1/bytes");
    expect([...answer.body]).toEqual([1, 2, 3]);
    expect(answer.headers["content-length"]).toBe("3");
    expect(answer.headers["content-type"]).toBe("application/octet-stream");
  });

  it("answers HEAD with the GET route's status and headers, its body's length and no body", async () => {
    const answer = await call("/api/v1/items/7", { method: "HEAD" });
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(0);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(answer.headers["content-length"]).toBe(String((await call("/api/v1/items/7")).body.length));
    expect(answer.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
  });

  it("keeps every value of a header sent more than once (Set-Cookie)", async () => {
    expect(lines(await call("/api/v1/cookies"), "set-cookie")).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    const pairs = await call("/api/v1/cookie-pairs");
    expect(lines(pairs, "set-cookie")).toEqual(["c=3", "d=4"]);
    expect(pairs.headers.vary).toBe("Accept");
    expect(pairs.headers["content-type"]).toBe("text/plain; charset=UTF-8");
  });

  it("gives the URL and query to a handler that asks, and routes a path with dot segments as its resolved form", async () => {
    const answer = await call("/api/v1/items/5?q=search%20me", { headers: { Host: "example.test:8080" } });
    expect(json(answer)).toEqual({ id: "5", url: "http://example.test:8080/api/v1/items/5?q=search%20me", q: "search me" });
    const dotted = await call("/api/v1/other/../items/6");
    expect(dotted.status).toBe(200);
    expect(json(dotted).id).toBe("6");
  });

  it("routes a percent-encoded path and an absolute-form target", async () => {
    expect(json(await call("/api/v1/items/a%20b")).id).toBe("a b");
    const text = await raw(`GET http://example.test/api/v1/items/4?q=z HTTP/1.1\r\nHost: example.test\r\nX-Constitutional-Hash: ${CONSTITUTIONAL_HASH}\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toEqual({ id: "4", url: "http://example.test/api/v1/items/4?q=z", q: "z" });
  });

  it("refuses a target no URL can be made of with 400, the hash included", async () => {
    const text = await raw(`GET /api\\v1/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain(`X-Constitutional-Hash: ${CONSTITUTIONAL_HASH}`);
  });
});

describe("failures", () => {
  it.each([
    ["throws synchronously", "/api/v1/throw"],
    ["rejects", "/api/v1/reject"],
  ])("answers 500 through the app's error handler when a handler %s", async (_how, path) => {
    const answer = await call(path, { headers: { "X-Request-Id": "failing-1" } });
    expect(answer.status).toBe(500);
    expect(json(answer)).toEqual({ error: "internal server error", requestId: "failing-1" });
    expect(answer.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
    expect(answer.headers["x-request-id"]).toBe("failing-1");
  });

  it("answers 500 itself for what Hono does not catch (a thrown non-Error), and reports it", async () => {
    const before = errors.length;
    const answer = await call("/api/v1/throw-string");
    expect(answer.status).toBe(500);
    expect(json(answer)).toEqual({ error: "internal server error" });
    expect(answer.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
    expect(answer.headers["x-request-id"]).toMatch(REQUEST_ID);
    expect(errors.slice(before)).toContain("not an Error object");
  });

  it("puts the hash on 404 and 429 answers too", async () => {
    const missing = await call("/api/v1/nowhere");
    expect(missing.status).toBe(404);
    expect(missing.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
    expect((await call("/api/v1/ping", { base: limited })).status).toBe(200);
    const limitedAnswer = await call("/api/v1/ping", { base: limited });
    expect(limitedAnswer.status).toBe(429);
    expect(limitedAnswer.headers["x-constitutional-hash"]).toBe(CONSTITUTIONAL_HASH);
    expect(limitedAnswer.headers["retry-after"]).toBeDefined();
  });
});

describe("request ids and connections", () => {
  it("echoes a safe incoming request id and makes a distinct one otherwise", async () => {
    expect((await call("/api/v1/items/1", { headers: { "X-Request-Id": "trace-42" } })).headers["x-request-id"]).toBe("trace-42");
    const ids = await Promise.all([1, 2, 3].map(async () => (await call("/api/v1/items/1")).headers["x-request-id"]));
    for (const id of ids) expect(id).toMatch(REQUEST_ID);
    expect(new Set(ids).size).toBe(3);
  });

  it("serves many requests of every kind over one kept-alive connection", async () => {
    const agent = oneConnection();
    try {
      const answers: Answer[] = [];
      answers.push(await call("/api/v1/items/1", { agent }));
      answers.push(await call("/api/v1/echo", { method: "POST", agent, headers: { "Content-Type": "application/json" }, body: '{"name":"x"}' }));
      answers.push(await call("/api/v1/stream", { agent }));
      answers.push(await call("/api/v1/items/2", { method: "HEAD", agent }));
      answers.push(await call("/api/v1/throw", { agent }));
      answers.push(await call("/api/v1/nowhere", { agent }));
      answers.push(await call("/api/v1/items/3", { agent }));
      expect(answers.map((a) => a.status)).toEqual([200, 201, 200, 200, 500, 404, 200]);
      expect(answers.map((a) => a.reused)).toEqual([false, true, true, true, true, true, true]);
    } finally {
      agent.destroy();
    }
  });

  it("handles the requests that arrive together before it writes their answers, which then leave together", async () => {
    // Two pipelined requests in one write: Node reads both in one turn of the event loop.
    const socket = connect(service.port, "127.0.0.1");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    await new Promise((resolve) => socket.once("connect", resolve));
    const get = (n: number) => `GET /api/v1/turn/${n} HTTP/1.1\r\nHost: x\r\nX-Constitutional-Hash: ${CONSTITUTIONAL_HASH}\r\n\r\n`;
    socket.write(get(1) + get(2));
    try {
      await waitUntil("both answers", async () => (received.match(/HTTP\/1\.1 200/g) ?? []).length === 2, { timeoutMs: 5000, intervalMs: 5 });
    } finally {
      socket.destroy();
    }
    expect(received).toContain('{"n":"1"}');
    expect(received.indexOf('{"n":"1"}')).toBeLessThan(received.indexOf('{"n":"2"}'));
    expect(events.filter((e) => /^(handled|written) [12]$/.test(e))).toEqual(["handled 1", "handled 2", "written 1", "written 2"]);
  });

  it("shuts down promptly after all of the above: no connection was left hanging", async () => {
    const started = Date.now();
    await service.shutdown();
    // SHUTDOWN_TIMEOUT_MS is 5000: a connection stuck mid-request would hold it that long.
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
