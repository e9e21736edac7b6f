// One JSON call to a running service, as an API client makes it: the constitutional hash (unless
// the test sets another), an optional bearer token, and the answer parsed.
import { CONSTITUTIONAL_HASH } from "../../services/catalog";

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export interface CallOptions {
  readonly method?: string;
  /** A string is sent as is (malformed JSON tests). */
  readonly body?: unknown;
  readonly token?: string;
  /** null: no hash header at all. */
  readonly hash?: string | null;
}

export async function apiCall(baseUrl: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const { body, token, hash = CONSTITUTIONAL_HASH } = options;
  const headers: Record<string, string> = {};
  if (hash !== null) headers["X-Constitutional-Hash"] = hash;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // /metrics is text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The names of the fields a 400 answer complains about. */
export function fieldPaths(answer: Answer): string[] {
  return ((answer.body?.fields ?? []) as { path: string }[]).map((f) => f.path);
}
