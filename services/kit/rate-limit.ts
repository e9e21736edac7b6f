// Per-client-IP token bucket: `burst` requests at once, refilled at `perMinute`.
import type { Context, MiddlewareHandler } from "hono";

export interface RateLimitOptions {
  /** 0 turns the limiter off. */
  readonly perMinute: number;
  readonly burst: number;
  /** Which client a request comes from; default the socket's remote address. */
  readonly clientKey?: (c: Context) => string;
  /** Above this many tracked clients, idle ones are forgotten. */
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The TCP peer. X-Forwarded-For is not trusted: any client could forge it to dodge the limit. */
export function socketAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? "unknown";
}

export function rateLimit({ perMinute, burst, clientKey = socketAddress, maxClients = 10_000 }: RateLimitOptions): MiddlewareHandler {
  if (perMinute <= 0) return (_c, next) => next();
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  // Only full buckets are dropped: forgetting them changes nothing for their clients.
  const forgetIdle = (now: number) => {
    for (const [key, b] of buckets) if (b.tokens + (now - b.at) * perMs >= burst) buckets.delete(key);
  };

  return async (c, next) => {
    const key = clientKey(c);
    const now = performance.now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= maxClients) forgetIdle(now);
      bucket = { tokens: burst, at: now };
      buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return next();
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    c.header("Retry-After", String(retryAfterSeconds));
    return c.json({ error: "rate limit exceeded", limitPerMinute: perMinute, burst, retryAfterSeconds }, 429);
  };
}
