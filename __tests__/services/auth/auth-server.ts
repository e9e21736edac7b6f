// The auth service on a real port against a real PostgreSQL, with a clock the test moves, and the
// few HTTP calls the auth tests make.
import { Client } from "pg";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { authRoutes } from "../../../services/auth/auth-routes";
import type { ScryptParams } from "../../../services/auth/password-hash";
import { loadConfig } from "../../../services/kit/config";
import { silentLogger } from "../../../services/kit/logger";
import { startService, type ServiceHandle } from "../../../services/kit/start-service";

/** Cheaper than production's (the format and the code path are the same); password-hash.test.ts covers the default. */
export const TEST_SCRYPT: ScryptParams = { N: 2 ** 14, r: 8, p: 1 };

export interface TestClock {
  now: number;
  readonly read: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.now()): TestClock {
  const clock: TestClock = {
    now: start,
    read: () => clock.now,
    advance: (ms) => {
      clock.now += ms;
    },
  };
  return clock;
}

export function startAuth(databaseUrl: string, clock: TestClock = testClock()): Promise<ServiceHandle> {
  return startService({
    config: loadConfig("auth", { DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: "0" }),
    logger: silentLogger,
    hostname: "127.0.0.1",
    port: 0,
    routes: (app, context) => authRoutes(app, context, { clock: clock.read, scrypt: TEST_SCRYPT }),
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** A JSON call with the constitutional hash, as a client of the API makes it. */
export async function call(url: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const headers: Record<string, string> = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function queryOnce<R>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

export const PASSWORD = "correct horse battery staple";
