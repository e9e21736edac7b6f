// The kit's Node request listener: what @hono/node-server's adaptor did, for about half its cost
// per request. The app gets a NodeRequest (URL, headers and body stream built only when read) and
// the bindings { incoming, outgoing }; its answer is written to Node's response at the end of the
// event loop's turn (see `answer` below), a string or byte body (a LightResponse) without any stream.
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "node:http";
import { installLightResponse, LightResponse, type PlainAnswer } from "./light-response";
import { carriesBody, NodeRequest, RequestTargetError } from "./node-request";

type HeadersInit = ConstructorParameters<typeof Headers>[0];

export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
}

export type FetchHandler = (request: Request, bindings: NodeBindings) => Response | Promise<Response>;

export interface NodeListenerOptions {
  /** Told of what the app threw past its own error handler (answered 500 here) or a body that failed mid-way. */
  readonly onError?: (error: unknown, incoming: IncomingMessage) => void;
}

// What an unread body may cost after the answer before the connection is closed instead.
const DRAIN_TIMEOUT_MS = 500;
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;

const TEXT_PLAIN = "text/plain; charset=UTF-8";
const INTERNAL_ERROR = JSON.stringify({ error: "internal server error" });
const BAD_TARGET = JSON.stringify({ error: "malformed request target" });

export function nodeListener(fetch: FetchHandler, { onError = () => {} }: NodeListenerOptions = {}): RequestListener {
  installLightResponse();

  const fail = (error: unknown, outgoing: ServerResponse) => {
    onError(error, outgoing.req);
    drainAfterAnswer(outgoing);
    // Part of the answer is out: only a cut connection tells the client it is incomplete.
    if (outgoing.headersSent) outgoing.destroy();
    else if (!outgoing.destroyed) writeText(outgoing, 500, INTERNAL_ERROR);
  };

  // Never throws: a failure becomes the 500 (or the cut connection) above.
  const write = (response: unknown, outgoing: ServerResponse) => {
    drainAfterAnswer(outgoing);
    try {
      writeResponse(response, outgoing, fail);
    } catch (error) {
      fail(error, outgoing);
    }
  };

  // Answers are written together once the requests that arrived in this turn of the event loop
  // have been handled (setImmediate runs after the poll phase), as Redis writes its replies before
  // it sleeps: under load a turn reads many requests, and their answers then leave in one burst
  // instead of one at a time between reads, each waking the peer on its own. Cached validate at
  // full load: 72-95 to 44-46 µs of CPU per request; paced, one immediate more (P50 +0.03 ms).
  let answers: [unknown, ServerResponse][] = [];
  const writeAnswers = () => {
    const now = answers;
    answers = [];
    for (const [response, outgoing] of now) write(response, outgoing);
  };
  const answer = (response: unknown, outgoing: ServerResponse) => {
    if (answers.push([response, outgoing]) === 1) setImmediate(writeAnswers);
  };

  return function listener(incoming, outgoing) {
    let request: NodeRequest;
    try {
      request = new NodeRequest(incoming, outgoing);
    } catch (error) {
      if (error instanceof RequestTargetError) writeText(outgoing, 400, BAD_TARGET);
      else fail(error, outgoing);
      return;
    }
    let response: Response | Promise<Response>;
    try {
      response = fetch(request as unknown as Request, { incoming, outgoing });
    } catch (error) {
      fail(error, outgoing);
      return;
    }
    if (typeof (response as Promise<Response>)?.then === "function") {
      (response as Promise<Response>).then(
        (resolved) => answer(resolved, outgoing),
        (error: unknown) => fail(error, outgoing),
      );
    } else {
      answer(response, outgoing);
    }
  };
}

function writeText(outgoing: ServerResponse, status: number, body: string): void {
  outgoing.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  outgoing.end(body);
}

/** Writes the app's answer; a client already gone gets nothing written. */
function writeResponse(response: unknown, outgoing: ServerResponse, fail: (error: unknown, outgoing: ServerResponse) => void): void {
  const plain = LightResponse.plain(response);
  if (outgoing.destroyed) {
    // A stream body still gets its cancel, so whatever produces it can stop.
    const body = plain !== undefined ? plain.body : response instanceof LightResponse ? (response as unknown as Response).body : null;
    if (body instanceof ReadableStream && !body.locked) void body.cancel().catch(() => {});
    return;
  }
  if (plain !== undefined) {
    writePlain(plain, outgoing, fail);
    return;
  }
  // Any other Response (a fetched one, a Blob body, a status text): read the standard way.
  if (!(response instanceof LightResponse)) throw new TypeError(`the app answered ${String(response)}, not a Response`);
  const { status, statusText, body } = response as unknown as Response;
  const headers = outgoingHeaders((response as unknown as Response).headers, null);
  if (statusText === "") outgoing.writeHead(status, headers);
  else outgoing.writeHead(status, statusText, headers);
  if (body === null) outgoing.end();
  else void pipeBody(body, outgoing, fail);
}

function writePlain({ status, body, headers: given, lengthOfSource }: PlainAnswer, outgoing: ServerResponse, fail: (error: unknown, outgoing: ServerResponse) => void): void {
  const headers = outgoingHeaders(given, body);
  if (body === null) {
    // HEAD: the length the GET's body would have (without it Node's own client, for one, does
    // not reuse the connection). Never on other answers: a client would wait for those bytes.
    if (lengthOfSource !== undefined && outgoing.req.method === "HEAD" && !has(headers, "content-length")) headers["Content-Length"] = lengthOfSource;
    outgoing.writeHead(status, headers);
    outgoing.end();
  } else if (typeof body === "string" || body instanceof Uint8Array) {
    outgoing.writeHead(status, headers);
    outgoing.end(body);
  } else {
    outgoing.writeHead(status, headers);
    void pipeBody(body, outgoing, fail);
  }
}

/**
 * Node's header object for an answer: a fresh one (the app's may be shared), with set-cookie
 * kept as separate values, the standard's default Content-Type for a string body, and the
 * Content-Length of a body known now.
 */
function outgoingHeaders(given: HeadersInit | undefined, body: PlainAnswer["body"]): OutgoingHttpHeaders {
  if (Array.isArray(given)) return outgoingHeaders(new Headers(given), body);
  const headers: OutgoingHttpHeaders = {};
  if (given instanceof Headers) {
    for (const [name, value] of given) if (name !== "set-cookie") headers[name] = value;
    const cookies = given.getSetCookie();
    if (cookies.length > 0) headers["set-cookie"] = cookies;
  } else if (given !== undefined) {
    const record = given as Record<string, string>;
    for (const name in record) headers[name] = record[name];
  }
  if (typeof body === "string") {
    if (!has(headers, "content-type")) headers["Content-Type"] = TEXT_PLAIN;
    if (!has(headers, "content-length")) headers["Content-Length"] = Buffer.byteLength(body);
  } else if (body instanceof Uint8Array && !has(headers, "content-length")) {
    headers["Content-Length"] = body.byteLength;
  }
  return headers;
}

// Case-insensitive; answers carry a few headers, so a scan is cheap.
function has(headers: OutgoingHttpHeaders, lowerCaseName: string): boolean {
  for (const name in headers) if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return true;
  return false;
}

/** Streams a body to Node with backpressure; stops reading when the client goes away. */
async function pipeBody(body: ReadableStream<Uint8Array>, outgoing: ServerResponse, fail: (error: unknown, outgoing: ServerResponse) => void): Promise<void> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  outgoing.on("close", cancel);
  // Headers now, not with the first chunk: a slow stream's client learns the status early.
  outgoing.flushHeaders();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (outgoing.destroyed) return;
      if (!outgoing.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            outgoing.off("drain", go);
            outgoing.off("close", go);
            resolve();
          };
          outgoing.on("drain", go);
          outgoing.on("close", go);
        });
      }
    }
    outgoing.end();
  } catch (error) {
    fail(error, outgoing);
  } finally {
    outgoing.off("close", cancel);
  }
}

/**
 * After the answer, a body the app did not read (or stopped reading) still stands between the
 * connection and its next request: read and drop it, within limits, or close the connection.
 * Node drops a body nobody touched itself; this covers one a reader left half-read. A body
 * received whole by the time of the answer (the usual JSON POST) needs nothing.
 */
function drainAfterAnswer(outgoing: ServerResponse): void {
  const incoming = outgoing.req;
  // (Once: a failed write is answered again, through here too.)
  if (!incoming.complete && carriesBody(incoming) && !outgoing.listeners("finish").includes(drainUnreadBody)) {
    outgoing.once("finish", drainUnreadBody);
  }
}

function drainUnreadBody(this: ServerResponse): void {
  const incoming = this.req;
  if (incoming.complete || incoming.destroyed) return;
  let bytes = 0;
  const stop = () => {
    clearTimeout(timer);
    incoming.off("data", count);
    incoming.off("end", stop);
    incoming.off("error", stop);
  };
  const close = () => {
    stop();
    incoming.socket?.destroySoon();
  };
  const count = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > DRAIN_MAX_BYTES) close();
  };
  const timer = setTimeout(close, DRAIN_TIMEOUT_MS);
  timer.unref();
  // Whoever was reading (a web stream over it) is done with it.
  incoming.removeAllListeners("data");
  incoming.on("data", count);
  incoming.on("end", stop);
  incoming.on("error", stop);
  incoming.resume();
}
