// An open-loop load generator: requests leave at an even pace (request i at start + i / rate),
// whatever the server's answers do, over a pool of keep-alive connections. autocannon's
// `overallRate` is no substitute: each connection sends its whole per-second quota as fast as it
// can at the start of each second, so its latencies are those of a burst at full load.
// A request's latency runs from the moment it is handed to the connection pool to the end of its
// answer, so time spent waiting for a free connection (the server being slow) counts; how late
// the generator's timer was in sending it (Node's timers fire up to a millisecond or so late) is
// reported apart, so that a busy generator is not mistaken for a slow server.
// It speaks HTTP/1.1 on raw sockets (answer-frame.ts reads the answers), one request at a time per
// connection: node:http's client cost ~140 µs of CPU per request here, twice what the bare server
// it measured spent, on the same two cores as the servers under test.
import { connect, type Socket } from "node:net";
import { AnswerFrame } from "./answer-frame";

export interface OpenLoopRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface OpenLoopOptions {
  /** Requests per second offered. */
  readonly rate: number;
  readonly seconds: number;
  /** At most this many connections; a request due while all are busy waits for one. */
  readonly connections: number;
}

export interface OpenLoopResult {
  readonly sent: number;
  /** Answers with a 2xx status. */
  readonly ok: number;
  /** Other statuses and failed requests. */
  readonly errors: number;
  /** Latency percentiles in milliseconds, from handing the request over to the answer's end. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The generator's own lag: how late, at worst and at the 99th percentile, a request left. */
  readonly sendLagP99: number;
  readonly sendLagMax: number;
  /** Every answered request's latency in milliseconds, ascending (to pool several runs). */
  readonly latencies: Float64Array;
}

/** The request's bytes, written once per request. */
function requestBytes(url: URL, request: OpenLoopRequest): Buffer {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return body === undefined ? head : Buffer.concat([head, body]);
}

interface Connection {
  readonly socket: Socket;
  readonly frame: AnswerFrame;
  /** Called with the answer's status (0: the connection failed) once the request in flight ends. */
  finish?: (status: number) => void;
}

export async function openLoop(baseUrl: string, request: OpenLoopRequest, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(request.path, baseUrl);
  const bytes = requestBytes(url, request);
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  // Requests handed over while every connection was busy, oldest first, with their hand-over time.
  const waiting: number[] = [];
  let sent = 0;
  let finished = 0;
  let ok = 0;
  let errors = 0;

  const record = (handedOver: number, status: number) => {
    latencies[finished++] = performance.now() - handedOver;
    if (status >= 200 && status < 300) ok++;
    else errors++;
  };

  /** The request handed over at `handedOver` is now the connection's: its answer or failure ends it. */
  const carry = (connection: Connection, handedOver: number) => {
    connection.finish = (status) => {
      connection.finish = undefined;
      record(handedOver, status);
      if (!connection.socket.destroyed && !connection.frame.closes) release(connection);
      else drop(connection);
    };
  };

  const dispatch = (connection: Connection, handedOver: number) => {
    carry(connection, handedOver);
    connection.socket.write(bytes);
  };

  const release = (connection: Connection) => {
    const next = waiting.shift();
    if (next !== undefined) dispatch(connection, next);
    else idle.push(connection);
  };

  const drop = (connection: Connection) => {
    all.delete(connection);
    connection.socket.destroy();
    // A request waiting for a connection gets a new one in its place.
    const next = waiting.shift();
    if (next !== undefined) open(next);
  };

  const open = (handedOver: number) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    const connection: Connection = { socket, frame: new AnswerFrame() };
    all.add(connection);
    // A failure to connect ends the request it was opened for (the socket is destroyed by then).
    carry(connection, handedOver);
    socket.once("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => {
      const status = connection.frame.push(chunk);
      if (status === "invalid") {
        // Past an answer it cannot frame, nothing more on this connection can be read.
        socket.destroy();
        connection.finish?.(0);
      } else if (status !== undefined) connection.finish?.(status);
    });
    const failed = () => {
      if (connection.finish) connection.finish(0);
      else if (all.delete(connection)) idle.splice(idle.indexOf(connection), 1); // closed while idle
    };
    socket.once("error", failed);
    socket.once("close", failed);
  };

  const send = (index: number, due: number) => {
    const handedOver = performance.now();
    lags[index] = handedOver - due;
    const connection = idle.pop();
    if (connection) dispatch(connection, handedOver);
    else if (all.size < options.connections) open(handedOver);
    else waiting.push(handedOver);
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every request due by now leaves now.
      while (sent < total && start + sent * intervalMs <= now) {
        send(sent, start + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  // The last answers; a request that never ends would hang the bench, so give up after 30 s.
  const deadline = performance.now() + 30_000;
  while (finished < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  for (const connection of all) connection.socket.destroy();
  const unfinished = sent - finished;

  const sortedLatencies = latencies.slice(0, finished).sort();
  const sortedLags = lags.slice(0, sent).sort();
  return {
    sent,
    ok,
    errors: errors + unfinished,
    p50: percentile(sortedLatencies, 0.5),
    p99: percentile(sortedLatencies, 0.99),
    max: sortedLatencies.at(-1) ?? Number.NaN,
    sendLagP99: percentile(sortedLags, 0.99),
    sendLagMax: sortedLags.at(-1) ?? Number.NaN,
    latencies: sortedLatencies,
  };
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
