// Per-client token bucket: `burst` requests at once, refilled at `perMinute`. A plain check, not
// middleware: the app runs it before routing, so a refused request costs no Hono dispatch.

export interface RateLimitOptions {
  /** 0 turns the limiter off. */
  readonly perMinute: number;
  readonly burst: number;
  /** Above this many tracked clients, idle ones are forgotten. */
  readonly maxClients?: number;
}

/** Takes a token for the client: undefined when it may go on, else the seconds to wait (Retry-After). */
export type RateLimiter = (client: string) => number | undefined;

interface Bucket {
  tokens: number;
  at: number;
}

/** The TCP peer. X-Forwarded-For is not trusted: any client could forge it to dodge the limit. */
export function socketAddress(env: unknown): string {
  return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? "unknown";
}

/** The 429 body. */
export function rateLimitedBody({ perMinute, burst }: RateLimitOptions, retryAfterSeconds: number) {
  return { error: "rate limit exceeded", limitPerMinute: perMinute, burst, retryAfterSeconds };
}

/** Undefined when perMinute is 0 (off). */
export function createRateLimiter({ perMinute, burst, maxClients = 10_000 }: RateLimitOptions): RateLimiter | undefined {
  if (perMinute <= 0) return undefined;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  // Only full buckets are dropped: forgetting them changes nothing for their clients.
  const forgetIdle = (now: number) => {
    for (const [key, b] of buckets) if (b.tokens + (now - b.at) * perMs >= burst) buckets.delete(key);
  };

  return (client) => {
    const now = performance.now();
    let bucket = buckets.get(client);
    if (bucket === undefined) {
      if (buckets.size >= maxClients) forgetIdle(now);
      bucket = { tokens: burst, at: now };
      buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
  };
}
