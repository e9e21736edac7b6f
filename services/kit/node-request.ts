// The Request the kit's Node listener hands to the app: method and path are read from Node's
// parsed request as they are; the URL, the WHATWG Headers and a full Request (with its body
// stream and abort signal) are built only when something asks for them. A small request that
// nobody reads the URL or body of pays for none of that.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import { getPath } from "hono/utils/url";
import { delegateToNative } from "./native-delegation";

const NativeRequest: typeof Request = globalThis.Request;

/** A request target the listener refuses with 400 (malformed absolute URL, backslash in the path). */
export class RequestTargetError extends Error {
  override readonly name = "RequestTargetError";
}

// Characters a path may hold and come out of WHATWG URL parsing unchanged (no percent-encoding,
// no decoding); "/." is checked apart, as dot segments are resolved.
const PLAIN_PATH_CHARACTER = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") {
  PLAIN_PATH_CHARACTER[c.charCodeAt(0)] = 1;
}

/** The path of a target that needs no URL parsing ("/api/v1/x?y=1" -> "/api/v1/x"), else undefined. */
function plainPath(target: string): string | undefined {
  if (target.charCodeAt(0) !== 47 /* / */) return undefined;
  let previous = 0;
  let i = 0;
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* ? */) break;
    if (c >= 128 || PLAIN_PATH_CHARACTER[c] === 0 || (c === 46 /* . */ && previous === 47)) return undefined;
    previous = c;
  }
  return i === target.length ? target : target.slice(0, i);
}

function scheme(incoming: IncomingMessage): string {
  return (incoming.socket as TLSSocket | null)?.encrypted ? "https" : "http";
}

// A Host header that cannot change how the rest of the URL parses (no "/", "@", "?", "#").
const SAFE_HOST = /^[\w.-]+(:\d{1,5})?$|^\[[\da-fA-F:.]+\](:\d{1,5})?$/;

/** The request's absolute URL; a missing or odd Host becomes localhost (routing never reads it). */
function absoluteUrl(incoming: IncomingMessage, target: string): string {
  if (target.startsWith("http://") || target.startsWith("https://")) return new URL(target).href;
  const host = incoming.headers.host;
  if (host !== undefined && SAFE_HOST.test(host)) {
    try {
      return new URL(`${scheme(incoming)}://${host}${target}`).href;
    } catch {
      // A port out of range, say: as if there were no Host.
    }
  }
  return new URL(`${scheme(incoming)}://localhost${target}`).href;
}

/** Parses what plainPath could not: dot segments, percent-escapes, absolute-form targets. */
function parsedPath(target: string): string {
  const query = target.indexOf("?");
  if (target.lastIndexOf("\\", query === -1 ? target.length : query) !== -1) throw new RequestTargetError("backslash in the request path");
  let href: string;
  try {
    href = target.startsWith("http://") || target.startsWith("https://") ? new URL(target).href : target.startsWith("/") ? new URL(`http://localhost${target}`).href : "";
  } catch {
    href = "";
  }
  if (href === "") throw new RequestTargetError("malformed request target");
  return getPath({ url: href } as Request);
}

/** False when the request certainly has no body (neither a length other than 0 nor chunking). */
export function carriesBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers["content-length"];
  return (length !== undefined && length !== "0") || incoming.headers["transfer-encoding"] !== undefined;
}

/** The body as a web stream that starts reading Node's stream only when it is read itself. */
function bodyStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (Readable.toWeb(incoming) as ReadableStream<Uint8Array>).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader?.cancel(reason);
      },
    },
    // No read ahead: until the app reads, the bytes stay Node's (see request-body.ts).
    { highWaterMark: 0 },
  );
}

export class NodeRequest {
  readonly #incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;
  readonly #path: string;
  #url: string | undefined;
  #headers: Headers | undefined;
  #whole: Request | undefined;

  /** Throws RequestTargetError for a target no URL can be made of. */
  constructor(incoming: IncomingMessage, outgoing: ServerResponse) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    const target = incoming.url ?? "/";
    this.#path = plainPath(target) ?? parsedPath(target);
  }

  get method(): string {
    return this.#incoming.method ?? "GET";
  }

  get url(): string {
    return (this.#url ??= absoluteUrl(this.#incoming, this.#incoming.url ?? "/"));
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const raw = this.#incoming.rawHeaders;
      const pairs: [string, string][] = [];
      // HTTP/2 pseudo-headers (":path") are not headers.
      for (let i = 0; i < raw.length; i += 2) if (raw[i].charCodeAt(0) !== 58) pairs.push([raw[i], raw[i + 1]]);
      this.#headers = new Headers(pairs);
    }
    return this.#headers;
  }

  /** The path Hono routes on, as its getPath would read it from the URL (no query). */
  static path(request: Request): string {
    return #path in request ? (request as unknown as NodeRequest).#path : getPath(request);
  }

  /** The full WHATWG Request (body stream, abort signal), built at the first call. */
  static whole(request: Request): Request {
    return #path in request ? (request as unknown as NodeRequest).#wholeRequest() : request;
  }

  #wholeRequest(): Request {
    if (this.#whole !== undefined) return this.#whole;
    const incoming = this.#incoming;
    const outgoing = this.#outgoing;
    const method = this.method;
    const abort = new AbortController();
    // The signal tells the app its client went away before the answer was complete.
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) abort.abort(incoming.errored ?? new Error("the client closed the connection before the answer was complete"));
    });
    const init: RequestInit & { duplex: "half" } = {
      // WHATWG Request refuses TRACE; the method getter still says TRACE.
      method: method === "TRACE" ? "GET" : method,
      headers: this.headers,
      signal: abort.signal,
      duplex: "half",
    };
    if (method !== "GET" && method !== "HEAD" && method !== "TRACE" && carriesBody(incoming)) init.body = bodyStream(incoming);
    this.#whole = new NativeRequest(this.url, init);
    return this.#whole;
  }
}

// Everything else a Request has (body, signal, json(), text(), clone(), ...) comes from the full one.
delegateToNative(NodeRequest.prototype, NativeRequest.prototype, (self: Request) => NodeRequest.whole(self));
