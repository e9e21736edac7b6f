// HTTP/1.1 exchanges over a pool of kept-alive TCP (or TLS) connections, as the kit's service
// client needs them: the request goes out as one prepared string in one write, the answer is
// framed straight from the bytes as they arrive, and one timer per pool watches every deadline.
// node:http's client costs several times the CPU per call (a ClientRequest and an IncomingMessage
// stream per call, an agent queue, a parser taken from and given back to a free list, a timer).
import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface Http1PoolOptions {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** More exchanges at once wait for a free connection. */
  readonly maxConnections: number;
  /** Larger answer bodies fail the exchange (an Http1ProtocolError) instead of filling memory. */
  readonly maxAnswerBytes: number;
  /** How long an idle connection is reused: at most, and when the server gives no Keep-Alive timeout. */
  readonly idleMs: number;
}

export class Http1Answer {
  constructor(
    readonly status: number,
    readonly body: Buffer,
    private readonly head: string,
    private readonly lowerHead: string,
  ) {}

  /** A header's value (a repeated header's values joined by ", "), read from the head only when asked for. */
  header(name: string): string | undefined {
    return fieldOf(this.head, name.toLowerCase(), this.lowerHead);
  }
}

/**
 * The value of field `name` (lower case) in an answer head, repeated fields joined by ", ";
 * found in `lowerHead` (the head in lower case) and read from `head`.
 */
function fieldOf(head: string, name: string, lowerHead = head): string | undefined {
  const key = `\r\n${name}:`;
  let value: string | undefined;
  for (let at = lowerHead.indexOf(key); at >= 0; at = lowerHead.indexOf(key, at + key.length)) {
    const start = at + key.length;
    const end = lowerHead.indexOf("\r\n", start);
    const field = head.slice(start, end < 0 ? head.length : end).trim();
    value = value === undefined ? field : `${value}, ${field}`;
  }
  return value;
}

export interface Http1Pool {
  /** Sends `request` (head and body, ready to write) and resolves with the whole answer; rejects with the socket's error, an Http1ProtocolError, or an Http1TimeoutError after `timeoutMs`. */
  exchange(request: string | Buffer, timeoutMs: number): Promise<Http1Answer>;
  /** Closes every connection; exchanges under way fail. */
  close(): void;
}

/** An exchange that had no whole answer within its time. */
export class Http1TimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "Http1TimeoutError";
  }
}

/** The peer's bytes are not an HTTP/1.1 answer (or end before the whole answer). */
export class Http1ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Http1ProtocolError";
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
// Shared by every connection: each read is framed (and what is kept copied out) before the next.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.[01] [1-9]\d\d( |$)/;

interface Exchange {
  readonly request: string | Buffer;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (answer: Http1Answer) => void;
  readonly reject: (error: unknown) => void;
  connection?: Connection;
  settled: boolean;
}

type Framing = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailer" | "until-close";

/** One connection: at most one exchange at a time, its answer framed as the bytes come. */
class Connection {
  readonly socket: Socket;
  exchange: Exchange | undefined;
  /** Idle past this time (ms since the epoch), it is closed instead of reused. */
  reusableUntil = 0;
  closed = false;
  private framing: Framing = "head";
  private rest: Buffer | undefined;
  private status = 0;
  private head = "";
  private lowerHead = "";
  private keepAlive = true;
  /** The server's Keep-Alive timeout, -1 when it gave none. */
  private keepAliveMs = -1;
  private remaining = 0;
  private parts: Buffer[] = [];
  private answerBytes = 0;
  private whole = false;

  constructor(
    private readonly pool: Pool,
    private readonly options: Http1PoolOptions,
  ) {
    if (options.secure) {
      this.socket = tlsConnect({ host: options.host, port: options.port, servername: isIP(options.host) ? undefined : options.host, ALPNProtocols: ["http/1.1"] });
      this.socket.on("data", (chunk: Buffer) => this.received(chunk));
    } else {
      // Reads land in one shared buffer, handed over synchronously: no Buffer and no stream push per read.
      const onread = { buffer: READ_BUFFER, callback: (bytes: number, buffer: Buffer) => (this.received(buffer.subarray(0, bytes)), true) };
      this.socket = tcpConnect({ host: options.host, port: options.port, onread });
    }
    this.socket.setNoDelay(true);
    // The peer's FIN: the end of an answer framed by the close, else an answer cut short.
    this.socket.on("end", () => (this.framing === "until-close" && this.exchange ? this.deliver() : this.fail(new Http1ProtocolError("connection closed before the whole answer"))));
    this.socket.on("error", (error: Error) => this.fail(error));
    this.socket.on("close", () => this.fail(new Http1ProtocolError("connection closed before the whole answer")));
  }

  start(exchange: Exchange): void {
    exchange.connection = this;
    this.exchange = exchange;
    this.framing = "head";
    this.socket.ref();
    this.socket.write(exchange.request);
  }

  /** Ends the connection, failing its exchange with `error` if one is under way. */
  fail(error: unknown): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.close();
    if (exchange) this.pool.settle(exchange, error);
  }

  /** Destroys the socket and leaves the pool, once. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.pool.forget(this);
  }

  /** `chunk` may be a view of READ_BUFFER: whatever outlives this call is copied out of it. */
  private received(chunk: Buffer): void {
    if (!this.exchange) {
      this.fail(new Http1ProtocolError("bytes received with no request under way"));
      return;
    }
    let data = chunk;
    if (this.rest !== undefined) {
      data = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let at = 0;
    while (at < data.length && !this.whole && !this.closed) {
      switch (this.framing) {
        case "head": {
          const end = data.indexOf(HEAD_END, at);
          if (end < 0) return this.keep(data, at, "answer head");
          this.readHead(data.toString("latin1", at, end));
          at = end + 4;
          break;
        }
        case "length":
        case "chunk-data": {
          const take = Math.min(this.remaining, data.length - at);
          if (!this.within(take)) return;
          this.parts.push(Buffer.from(data.subarray(at, at + take)));
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) {
            if (this.framing === "length") this.whole = true;
            else this.framing = "chunk-end";
          }
          break;
        }
        case "chunk-size": {
          const end = data.indexOf(CRLF, at);
          if (end < 0) return this.keep(data, at, "chunk size");
          const size = parseInt(data.toString("latin1", at, end).split(";")[0], 16);
          if (!(size >= 0)) return this.fail(new Http1ProtocolError("malformed chunk size"));
          at = end + 2;
          this.remaining = size;
          this.framing = size === 0 ? "trailer" : "chunk-data";
          break;
        }
        case "chunk-end":
          if (data.length - at < 2) return this.keep(data, at, "chunk end");
          at += 2;
          this.framing = "chunk-size";
          break;
        case "trailer": {
          // Trailer fields up to an empty line; none are kept.
          const end = data.indexOf(CRLF, at);
          if (end < 0) return this.keep(data, at, "trailer");
          if (end === at) this.whole = true;
          at = end + 2;
          break;
        }
        case "until-close":
          if (!this.within(data.length - at)) return;
          this.parts.push(Buffer.from(data.subarray(at)));
          at = data.length;
          break;
      }
    }
    // Bytes past the answer: the peer sent what was not asked for, so the connection is not reused.
    if (this.whole) this.deliver(at < data.length);
  }

  /** Counts `bytes` more of the body; past the bound, fails the exchange and says false. */
  private within(bytes: number): boolean {
    this.answerBytes += bytes;
    if (this.answerBytes <= this.options.maxAnswerBytes) return true;
    this.fail(new Http1ProtocolError(`answer body larger than ${this.options.maxAnswerBytes} bytes`));
    return false;
  }

  /** Keeps an incomplete head or chunk line for the next bytes, within bounds. */
  private keep(data: Buffer, at: number, what: string): void {
    if (data.length - at > MAX_HEAD_BYTES) return this.fail(new Http1ProtocolError(`${what} longer than ${MAX_HEAD_BYTES} bytes`));
    this.rest = Buffer.from(data.subarray(at));
  }

  /** Reads the status line and the framing headers, and chooses how the body is framed. */
  private readHead(head: string): void {
    const statusEnd = head.indexOf("\r\n");
    const statusLine = statusEnd < 0 ? head : head.slice(0, statusEnd);
    if (!STATUS_LINE.test(statusLine)) return this.fail(new Http1ProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 40))}`));
    const status = Number(statusLine.slice(9, 12));
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    if (status < 200) return;
    // Field names are case-insensitive: looked up in a lower-case copy (of the same length: latin1).
    const lower = head.toLowerCase();
    this.status = status;
    this.head = head;
    this.lowerHead = lower;
    this.parts = [];
    this.answerBytes = 0;
    const connection = fieldOf(lower, "connection") ?? "";
    this.keepAlive = statusLine.startsWith("HTTP/1.1") ? !connection.includes("close") : connection.includes("keep-alive");
    const hint = /timeout=(\d+)/.exec(fieldOf(lower, "keep-alive") ?? "");
    this.keepAliveMs = hint ? Number(hint[1]) * 1000 : -1;
    const length = fieldOf(lower, "content-length");
    if (status === 204 || status === 304) {
      this.whole = true;
    } else if (/(^|,)\s*chunked$/.test(fieldOf(lower, "transfer-encoding") ?? "")) {
      this.framing = "chunk-size";
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) return this.fail(new Http1ProtocolError(`malformed Content-Length: ${JSON.stringify(length)}`));
      this.remaining = Number(length);
      if (this.remaining > this.options.maxAnswerBytes) return this.fail(new Http1ProtocolError(`answer body larger than ${this.options.maxAnswerBytes} bytes`));
      this.framing = "length";
      this.whole = this.remaining === 0;
    } else {
      // Neither length nor chunks: the body runs to the end of the connection.
      this.keepAlive = false;
      this.framing = "until-close";
    }
  }

  /** Hands the whole answer over, and the connection back to the pool when it can carry another exchange. */
  private deliver(junkAfter = false): void {
    const exchange = this.exchange!;
    this.exchange = undefined;
    const answer = new Http1Answer(this.status, this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts), this.head, this.lowerHead);
    this.parts = [];
    this.whole = false;
    this.framing = "head";
    if (this.keepAlive && !junkAfter && !this.closed) {
      this.socket.unref();
      this.pool.release(this, this.keepAliveMs);
    } else this.close();
    this.pool.settle(exchange, undefined, answer);
  }
}

class Pool implements Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Exchange[] = [];
  private readonly underWay = new Set<Exchange>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(private readonly options: Http1PoolOptions) {}

  exchange(request: string | Buffer, timeoutMs: number): Promise<Http1Answer> {
    return new Promise<Http1Answer>((resolve, reject) => {
      const exchange: Exchange = { request, timeoutMs, deadline: Date.now() + timeoutMs, resolve, reject, settled: false };
      this.underWay.add(exchange);
      if (exchange.deadline < this.timerAt) this.watch(exchange.deadline);
      this.dispatch(exchange);
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.waiting.length = 0;
    for (const connection of [...this.all]) connection.fail(new Http1ProtocolError("pool closed"));
    for (const exchange of [...this.underWay]) this.settle(exchange, new Http1ProtocolError("pool closed"));
  }

  /** Back from a finished exchange: the next waiting exchange takes it, else it waits idle. */
  release(connection: Connection, keepAliveMs: number): void {
    // Retired before the server's own Keep-Alive timeout (a second before, or half of it when
    // shorter), so no request goes out on a connection the server is closing.
    const reusableMs = keepAliveMs >= 0 ? Math.min(this.options.idleMs, keepAliveMs - Math.min(1000, keepAliveMs / 2)) : this.options.idleMs;
    connection.reusableUntil = Date.now() + reusableMs;
    const next = this.waiting.shift();
    if (next) connection.start(next);
    else this.idle.push(connection);
  }

  forget(connection: Connection): void {
    this.all.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    // A slot came free: a waiting exchange may now open a connection.
    const next = this.waiting.shift();
    if (next) this.dispatch(next);
  }

  settle(exchange: Exchange, error: unknown, answer?: Http1Answer): void {
    if (exchange.settled) return;
    exchange.settled = true;
    this.underWay.delete(exchange);
    if (answer) exchange.resolve(answer);
    else exchange.reject(error);
  }

  private dispatch(exchange: Exchange): void {
    const now = Date.now();
    // The most recently used first: fewer connections stay warm.
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.reusableUntil > now) return connection.start(exchange);
      connection.fail(undefined);
    }
    if (this.all.size >= this.options.maxConnections) {
      this.waiting.push(exchange);
      return;
    }
    const connection = new Connection(this, this.options);
    this.all.add(connection);
    connection.start(exchange);
  }

  /** One timer for the pool, due at the earliest deadline; exchanges that end in time never touch it. */
  private watch(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const exchange of this.underWay) {
      if (exchange.deadline > now) {
        next = Math.min(next, exchange.deadline);
        continue;
      }
      const error = new Http1TimeoutError(exchange.timeoutMs);
      if (exchange.connection) exchange.connection.fail(error);
      else {
        this.waiting.splice(this.waiting.indexOf(exchange), 1);
        this.settle(exchange, error);
      }
    }
    if (next < Infinity) this.watch(next);
  }
}

export function createHttp1Pool(options: Http1PoolOptions): Http1Pool {
  return new Pool(options);
}
