// The kit's client for service-to-service calls, against a real HTTP server: kept-alive
// connections, what it sends, answers passed on as they are, and every way a peer can fail
// (timeouts, refused connections and 5xx are in calls-and-migrations.test.ts); then against a
// peer scripted byte by byte, for the answer framings node:http's server rarely produces.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { createServiceClient, MAX_ANSWER_BYTES, type ServiceClient } from "../../services/kit/service-client";
import { DependencyUnavailableError } from "../../services/kit/unavailable";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe("service client", () => {
  let server: Server;
  let client: ServiceClient;
  let handler: Handler;
  const sockets = new Set<Socket>();
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => handler(req, body, res));
    });
    server.on("connection", (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // The coordinator calls the blackboard; the client is the kit's, whatever the peer.
    client = createServiceClient(loadConfig("coordinator", { SERVICE_URL_BLACKBOARD: `http://127.0.0.1:${port}`, RATE_LIMIT_PER_MINUTE: "0" }), "blackboard");
  });

  afterAll(async () => {
    client?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("sends the body with its length, the hash, the request id and the token, and keeps one connection for calls in turn", async () => {
    const seen: Record<string, unknown>[] = [];
    handler = (req, body, res) => {
      seen.push({ method: req.method, url: req.url, length: req.headers["content-length"], hash: req.headers["x-constitutional-hash"], id: req.headers["x-request-id"], auth: req.headers.authorization, body });
      res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true }));
    };
    const before = connections;
    const body = { text: "naïve ✓" };
    for (let i = 0; i < 5; i++) {
      expect(await client.call("/api/v1/entries", { body, requestId: `req-${i}`, authorization: "Bearer t" })).toEqual({ status: 201, body: { ok: true } });
    }
    expect(connections - before).toBe(1);
    expect(seen[4]).toEqual({
      method: "POST",
      url: "/api/v1/entries",
      length: String(Buffer.byteLength(JSON.stringify(body))),
      hash: CONSTITUTIONAL_HASH,
      id: "req-4",
      auth: "Bearer t",
      body: JSON.stringify(body),
    });
  });

  it("answers a 4xx as it is, and a body that is not JSON as text", async () => {
    handler = (_req, _body, res) => res.writeHead(409, { "Content-Type": "application/json" }).end('{"error":"conflict"}');
    expect(await client.call("/x", { method: "GET" })).toEqual({ status: 409, body: { error: "conflict" } });
    handler = (_req, _body, res) => res.writeHead(200, { "Content-Type": "text/plain" }).end("plain words");
    expect(await client.call("/x")).toEqual({ status: 200, body: "plain words" });
    handler = (_req, _body, res) => res.writeHead(204).end();
    expect(await client.call("/x", { method: "DELETE" })).toEqual({ status: 204, body: undefined });
  });

  it("passes a 5xx's Retry-After on", async () => {
    handler = (_req, _body, res) => res.writeHead(503, { "Retry-After": "7" }).end("{}");
    const error = await client.call("/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ dependency: "blackboard", retryAfterSeconds: 7 });
  });

  it("fails a call whose connection drops mid-answer as the peer being unavailable", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(client.call("/x")).rejects.toThrow(/blackboard is unavailable: \/x: /);
  });

  it("queues calls beyond its 64 connections and answers every one", async () => {
    handler = (req, body, res) => setTimeout(() => res.writeHead(200, { "Content-Type": "application/json" }).end(body), 20);
    server.closeIdleConnections();
    const before = connections;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => client.call("/echo", { body: { i } })));
    expect(answers.map((a) => (a.body as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(connections - before).toBeGreaterThan(1);
    expect(connections - before).toBeLessThanOrEqual(64);
  });

  it("times each call out on its own deadline, and a timed-out call leaves the others unharmed", async () => {
    handler = (req, _body, res) => setTimeout(() => res.writeHead(200, { "Content-Type": "application/json" }).end("{}"), Number(req.url!.slice(1)));
    const settled: string[] = [];
    const slow = client.call("/500", { timeoutMs: 2000 }).then(() => settled.push("slow answered"));
    const late = client.call("/500", { timeoutMs: 100 }).catch((e: unknown) => settled.push((e as Error).message));
    const quick = client.call("/0", { timeoutMs: 1000 }).then(() => settled.push("quick answered"));
    await Promise.all([slow, late, quick]);
    expect(settled).toEqual(["quick answered", "blackboard is unavailable: /500: no answer within 100 ms", "slow answered"]);
    expect(await client.call("/0")).toEqual({ status: 200, body: {} });
  });

  it("refuses a request id, a token or a path that would split the request, sending nothing", async () => {
    const seen: string[] = [];
    handler = (req, _body, res) => {
      seen.push(req.url!);
      res.writeHead(200).end();
    };
    await expect(client.call("/x", { requestId: "id\r\nX-Injected: 1" })).rejects.toThrow(/invalid character in the X-Request-Id header/);
    await expect(client.call("/x", { authorization: "Bearer a\nb" })).rejects.toThrow(/invalid character in the Authorization header/);
    await expect(client.call("/x HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /y")).rejects.toThrow(/unescaped characters/);
    expect(await client.call("/fine", { requestId: "id-1" })).toEqual({ status: 200, body: undefined });
    expect(seen).toEqual(["/fine"]);
  });

  it("takes a new connection when the peer closed the kept-alive one", async () => {
    handler = (_req, _body, res) => res.writeHead(200, { "Content-Type": "application/json" }).end("[]");
    await client.call("/x");
    const before = connections;
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(await client.call("/x")).toEqual({ status: 200, body: [] });
    expect(connections - before).toBe(1);
  });
});

describe("service client against a peer scripted byte by byte", () => {
  let peer: TcpServer;
  let client: ServiceClient;
  /** Answers one request: `request` is its whole text, head and body. */
  let answer: (socket: Socket, request: string) => void;
  let connections = 0;
  const requests: string[] = [];

  beforeAll(async () => {
    peer = createTcpServer((socket) => {
      connections++;
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        const headEnd = text.indexOf("\r\n\r\n");
        if (headEnd < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? 0);
        if (text.length < headEnd + 4 + length) return;
        const request = text.slice(0, headEnd + 4 + length);
        text = text.slice(request.length);
        requests.push(request);
        answer(socket, request);
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
    const { port } = peer.address() as AddressInfo;
    client = createServiceClient(loadConfig("coordinator", { SERVICE_URL_BLACKBOARD: `http://127.0.0.1:${port}`, RATE_LIMIT_PER_MINUTE: "0" }), "blackboard");
  });

  afterAll(async () => {
    client?.close();
    await new Promise((resolve) => peer?.close(resolve));
  });

  /** Writes `parts` one after another, each in its own write a turn of the event loop apart. */
  const writeApart = (socket: Socket, parts: string[], then?: () => void) => {
    const [first, ...others] = parts;
    if (first === undefined) return then?.();
    socket.write(first, () => setImmediate(() => writeApart(socket, others, then)));
  };

  it("writes the request in one piece: method, path, Host, the hash, the request id, the token and the body with its length", async () => {
    answer = (socket) => socket.write("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}");
    expect(await client.call("/api/v1/entries", { body: { topic: "t" }, requestId: "req-1", authorization: "Bearer x" })).toEqual({ status: 201, body: {} });
    const { port } = peer.address() as AddressInfo;
    expect(requests.at(-1)!.split("\r\n")).toEqual([
      "POST /api/v1/entries HTTP/1.1",
      `Host: 127.0.0.1:${port}`,
      `X-Constitutional-Hash: ${CONSTITUTIONAL_HASH}`,
      "Accept: application/json",
      "X-Request-Id: req-1",
      "Authorization: Bearer x",
      "Content-Type: application/json",
      "Content-Length: 13",
      "",
      '{"topic":"t"}',
    ]);
  });

  it("writes a forwarded header's latin1 bytes as node:http does, and the body as UTF-8", async () => {
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(await client.call("/x", { body: { note: "ü€" }, authorization: "Bearer caf\u00e9" })).toEqual({ status: 200, body: undefined });
    const bytes = Buffer.from(requests.at(-1)!, "latin1");
    expect(bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]))).toBe(true); // "café\r\n", é as one byte
    expect(bytes.subarray(bytes.indexOf("\r\n\r\n") + 4).toString("utf8")).toBe('{"note":"ü€"}');
    expect(requests.at(-1)).toContain(`Content-Length: ${Buffer.byteLength('{"note":"ü€"}')}\r\n`);
  });

  it("reads a chunked answer, with chunk extensions and trailers, split across writes, and keeps the connection", async () => {
    answer = (socket) =>
      writeApart(socket, ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r", '\n{"a":\r\n', "2;note=x\r\n1}\r\n0\r\nX-Trailer: y\r", "\n\r\n"]);
    expect(await client.call("/chunked")).toEqual({ status: 200, body: { a: 1 } });
    const before = connections;
    expect(await client.call("/chunked")).toEqual({ status: 200, body: { a: 1 } });
    expect(connections - before).toBe(0);
  });

  it("reads an answer that arrives a byte at a time, multi-byte characters cut in two included", async () => {
    const body = JSON.stringify({ text: "naïve ✓" });
    const whole = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    answer = (socket) => {
      const bytes = [...whole];
      const next = () => {
        const byte = bytes.shift();
        if (byte !== undefined) socket.write(Buffer.from([byte]), () => setImmediate(next));
      };
      next();
    };
    expect(await client.call("/bytes")).toEqual({ status: 200, body: { text: "naïve ✓" } });
  });

  it("skips an interim 100 Continue, and reads an answer framed by the connection's end (then opens a new one)", async () => {
    answer = (socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"after"');
    expect(await client.call("/interim")).toEqual({ status: 200, body: "after" });
    answer = (socket) => writeApart(socket, ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[1,", "2]"], () => socket.end());
    const before = connections;
    expect(await client.call("/until-close")).toEqual({ status: 200, body: [1, 2] });
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrue");
    expect(await client.call("/after")).toEqual({ status: 200, body: true });
    expect(connections - before).toBe(1);
  });

  it("answers a 5xx's Retry-After whatever the header's case, and 5 s without one", async () => {
    answer = (socket) => socket.write("HTTP/1.1 503 Service Unavailable\r\nretry-AFTER: 9\r\nContent-Length: 0\r\n\r\n");
    await expect(client.call("/busy")).rejects.toMatchObject({ dependency: "blackboard", retryAfterSeconds: 9 });
    answer = (socket) => socket.write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    await expect(client.call("/broken")).rejects.toMatchObject({ retryAfterSeconds: 5, message: "blackboard is unavailable: /broken answered 500" });
  });

  it("turns bytes that are not an HTTP answer into the peer being unavailable, and does not reuse that connection", async () => {
    answer = (socket) => socket.write("SMTP ready\r\n\r\n");
    await expect(client.call("/garbled")).rejects.toThrow(/blackboard is unavailable: \/garbled: .*not an HTTP\/1.x status line/);
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n{}");
    await expect(client.call("/length")).rejects.toThrow(/malformed Content-Length/);
    // An answer followed by bytes nobody asked for: the answer stands, the connection goes.
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n");
    const before = connections;
    expect(await client.call("/extra")).toEqual({ status: 200, body: {} });
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
    expect(await client.call("/next")).toEqual({ status: 200, body: [] });
    expect(connections - before).toBe(2);
  });

  it("refuses an answer larger than MAX_ANSWER_BYTES, by its length or as it streams, and does not reuse that connection", async () => {
    answer = (socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_ANSWER_BYTES + 1}\r\n\r\n{`);
    await expect(client.call("/huge")).rejects.toThrow(/blackboard is unavailable: \/huge: .*answer body larger than 16777216 bytes/);
    // Each refused answer's connection is dropped: the next two calls each open a new one.
    const before = connections;
    const chunk = "x".repeat(1024 * 1024);
    answer = (socket) => {
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let i = 0; i <= 16; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    };
    await expect(client.call("/streamed")).rejects.toThrow(/answer body larger than 16777216 bytes/);
    // Exactly the bound is accepted.
    answer = (socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MAX_ANSWER_BYTES}\r\n\r\n"${"y".repeat(MAX_ANSWER_BYTES - 2)}"`);
    expect(((await client.call<string>("/bound")).body as string).length).toBe(MAX_ANSWER_BYTES - 2);
    expect(connections - before).toBe(2);
  });

  it("retires an idle connection before the peer's Keep-Alive timeout runs out", async () => {
    answer = (socket) => socket.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\n{}");
    await client.call("/hint");
    const before = connections;
    await client.call("/hint"); // at once: the same connection
    expect(connections - before).toBe(0);
    // Half the peer's one second later, the client takes a new connection rather than risk the old.
    await new Promise((r) => setTimeout(r, 600));
    await client.call("/hint");
    expect(connections - before).toBe(1);
  });
});
