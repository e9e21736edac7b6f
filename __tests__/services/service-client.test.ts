// The kit's client for service-to-service calls, against a real HTTP server: kept-alive
// connections, what it sends, answers passed on as they are, and every way a peer can fail
// (timeouts, refused connections and 5xx are in calls-and-migrations.test.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { createServiceClient, type ServiceClient } from "../../services/kit/service-client";
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
