// The paced load generator of the benchmarks: its HTTP/1.1 framing and what it counts, against
// real node:http servers.
import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { AnswerFrame } from "../../bench/answer-frame";
import { openLoop, type OpenLoopRequest } from "../../bench/open-loop";
import { freePort } from "../support/free-port";

const GET: OpenLoopRequest = { method: "GET", path: "/", headers: {} };

async function serve(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function drive(listener: RequestListener, request: OpenLoopRequest, options: { rate: number; seconds: number; connections: number }) {
  const { url, server } = await serve(listener);
  servers.push(server);
  return openLoop(url, request, options);
}

/** Feeds the bytes one at a time and collects what each push answered. */
function feedByteByByte(frame: AnswerFrame, text: string): (number | "invalid")[] {
  const results: (number | "invalid")[] = [];
  for (const byte of Buffer.from(text, "latin1")) {
    const result = frame.push(Buffer.from([byte]));
    if (result !== undefined) results.push(result);
  }
  return results;
}

describe("AnswerFrame", () => {
  it("ends a Content-Length answer after its body, however the bytes are split", () => {
    const answer = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello";
    expect(feedByteByByte(new AnswerFrame(), answer + answer)).toEqual([201, 201]);
    const whole = new AnswerFrame();
    expect(whole.push(Buffer.from(answer.slice(0, -1)))).toBeUndefined();
    expect(whole.push(Buffer.from("o"))).toBe(201);
  });

  it("ends a chunked answer after its last chunk and trailers", () => {
    const plain = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n";
    const trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 1\r\n\r\n";
    expect(feedByteByByte(new AnswerFrame(), plain + trailers)).toEqual([200, 200]);
    // One byte short of the end: not complete.
    expect(new AnswerFrame().push(Buffer.from(plain.slice(0, -1)))).toBeUndefined();
  });

  it("skips interim answers and knows bodiless statuses", () => {
    expect(feedByteByByte(new AnswerFrame(), "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")).toEqual([204, 304]);
  });

  it("notes a close asked for, and refuses what it cannot frame", () => {
    const closing = new AnswerFrame();
    expect(closing.push(Buffer.from("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))).toBe(503);
    expect(closing.closes).toBe(true);
    expect(new AnswerFrame().push(Buffer.from("HTTP/1.1 200 OK\r\n\r\nuntil close"))).toBe("invalid");
    expect(new AnswerFrame().push(Buffer.from("SSH-2.0-OpenSSH\r\n\r\n"))).toBe("invalid");
    expect(new AnswerFrame().push(Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))).toBe("invalid");
  });
});

describe("openLoop", () => {
  it("sends the request as given and counts every answer", async () => {
    const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
    const result = await drive(
      (req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
          seen.push({ method: req.method, url: req.url, type: req.headers["content-type"], body });
          res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
        });
      },
      { method: "POST", path: "/api/v1/x?y=1", headers: { "content-type": "application/json" }, body: '{"é":1}' },
      { rate: 400, seconds: 0.25, connections: 5 },
    );
    expect(result).toMatchObject({ sent: 100, ok: 100, errors: 0 });
    expect(result.latencies).toHaveLength(100);
    expect(seen).toHaveLength(100);
    expect(seen[0]).toEqual({ method: "POST", url: "/api/v1/x?y=1", type: "application/json", body: '{"é":1}' });
  });

  it("reads chunked answers and counts other statuses as errors", async () => {
    let n = 0;
    const result = await drive(
      (_req, res) => {
        if (++n % 2 === 0) {
          res.writeHead(503).end("down");
          return;
        }
        res.writeHead(200);
        res.write("part one, ");
        res.end("part two");
      },
      GET,
      { rate: 400, seconds: 0.1, connections: 3 },
    );
    expect(result).toMatchObject({ sent: 40, ok: 20, errors: 20 });
  });

  it("opens a new connection when the server closes one after its answer", async () => {
    const connections = new Set<unknown>();
    const result = await drive(
      (req, res) => {
        connections.add(req.socket);
        res.writeHead(200, { Connection: "close" }).end("bye");
      },
      GET,
      // One connection and requests queued behind it: each must go on a new one, not the closing one.
      { rate: 1000, seconds: 0.05, connections: 1 },
    );
    expect(result).toMatchObject({ sent: 50, ok: 50, errors: 0 });
    expect(connections.size).toBe(50);
  });

  it("counts the wait for a free connection in the latency", async () => {
    // One connection, a 20 ms answer, a request every 10 ms: each waits 10 ms more than the last.
    const result = await drive((_req, res) => setTimeout(() => res.end("slow"), 20), GET, { rate: 100, seconds: 0.3, connections: 1 });
    // The last leaves at 290 ms and is answered after 30 x 20 ms: at least 310 ms.
    expect(result).toMatchObject({ sent: 30, ok: 30 });
    expect(result.p50).toBeLessThan(result.max);
    expect(result.max).toBeGreaterThan(200);
  });

  it("counts an answer it cannot frame as an error and never reuses its connection", async () => {
    // A body that runs until the connection closes, on a connection the server keeps open.
    const connections: Socket[] = [];
    const server = createNetServer((socket) => {
      connections.push(socket);
      socket.on("data", () => socket.write("HTTP/1.1 200 OK\r\n\r\nuntil close"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const result = await openLoop(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, GET, { rate: 200, seconds: 0.05, connections: 1 });
      expect(result).toMatchObject({ sent: 10, ok: 0, errors: 10 });
      expect(connections).toHaveLength(10);
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("counts requests to a server that is not there as errors", async () => {
    const port = await freePort();
    const result = await openLoop(`http://127.0.0.1:${port}`, GET, { rate: 200, seconds: 0.05, connections: 2 });
    expect(result).toMatchObject({ sent: 10, ok: 0, errors: 10 });
  });
});
