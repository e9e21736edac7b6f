// Reads a request body from Node's IncomingMessage when the app runs on the kit's Node listener:
// going through c.req (body, text(), json()) makes it build a full WHATWG Request, ReadableStream
// and AbortController first, which halves the throughput of a small JSON POST. Elsewhere (app.request
// in tests), or once something has started reading the stream, it falls back to c.req.text().
import type { Context } from "hono";

interface IncomingBody extends NodeJS.ReadableStream {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly readableDidRead?: boolean;
  readonly readableFlowing?: boolean | null;
  readonly rawBody?: unknown;
  listenerCount(event: string): number;
}

function untouchedIncoming(c: Context): IncomingBody | undefined {
  const incoming = (c.env as { incoming?: IncomingBody } | undefined)?.incoming;
  if (incoming === undefined || "rawBody" in incoming) return undefined;
  // Someone (a WHATWG Request built from it) already reads it: the bytes are theirs.
  if (incoming.readableDidRead || incoming.readableFlowing !== null || incoming.listenerCount("data") > 0) return undefined;
  return incoming;
}

/** The Content-Length of a request that is not chunked, undefined when it is not known up front. */
export function declaredBodyLength(c: Context): number | undefined {
  const headers = (c.env as { incoming?: IncomingBody } | undefined)?.incoming?.headers;
  if (headers === undefined || headers["transfer-encoding"] !== undefined) return undefined;
  const length = headers["content-length"];
  // Node's HTTP parser has refused a malformed or repeated Content-Length already.
  return typeof length === "string" ? Number(length) : undefined;
}

/** The body as UTF-8 text. */
export function readBodyText(c: Context): Promise<string> {
  const incoming = untouchedIncoming(c);
  if (incoming === undefined) return c.req.text();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    incoming.on("error", reject);
  });
}
