// Reads request headers from Node's already-parsed IncomingMessage when the app runs on the kit's
// Node listener: c.req.header() would first build a full WHATWG Headers object (and reading
// c.req.raw.body a full Request), a measurable share of a small request's cost. Elsewhere (tests
// through app.request) it falls back to the standard Request.
import type { Context } from "hono";

interface NodeBindings {
  incoming?: { headers?: Record<string, string | string[] | undefined> };
}

function nodeHeaders(c: Context): Record<string, string | string[] | undefined> | undefined {
  return (c.env as NodeBindings | undefined)?.incoming?.headers;
}

/** `name` must be lower case. */
export function requestHeader(c: Context, name: string): string | undefined {
  return headerOf(c.req.raw, c.env, name);
}

/** The same before a Context exists: the request and the bindings the app was called with. */
export function headerOf(request: Request, env: unknown, name: string): string | undefined {
  const headers = (env as NodeBindings | undefined)?.incoming?.headers;
  if (headers === undefined) return request.headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** False only when the request certainly has no body (HTTP/1.1: neither length nor chunking). */
export function mayHaveBody(c: Context): boolean {
  const headers = nodeHeaders(c);
  if (headers === undefined) return c.req.raw.body !== null;
  return headers["content-length"] !== undefined || headers["transfer-encoding"] !== undefined;
}
