// Where the blackboard keeps pages it has served. A full page never changes (see store.ts), so any
// copy of one is current: this process keeps full pages in memory, in front of the shared cache
// (Redis) that its replicas fill. A page found partial is not cached anywhere, and its next reads
// skip the shared cache as well: only PostgreSQL can tell whether it has filled up since.
import type { Cache } from "../kit/cache";
import type { ServiceMetrics } from "../kit/metrics";

export interface PageCache {
  /** The page's JSON when a full copy of it is known; undefined: read PostgreSQL. */
  get(key: string): string | undefined | Promise<string | undefined>;
  /** Remembers a page just read: kept when `full`, otherwise noted as partial. */
  remember(key: string, body: string, full: boolean): void;
}

export interface PageCacheOptions {
  readonly shared: Cache;
  readonly metrics: Pick<ServiceMetrics, "recordCacheLookup">;
  readonly sharedTtlSeconds: number;
  /** Bound of the full pages kept in memory, in characters of JSON. */
  readonly maxChars?: number;
  /** Bound of the partial pages remembered. */
  readonly maxPartial?: number;
}

export function createPageCache({ shared, metrics, sharedTtlSeconds, maxChars = 16 * 1024 * 1024, maxPartial = 10_000 }: PageCacheOptions): PageCache {
  // Maps iterate in insertion order: a hit is re-inserted, so the first key is the least recently used.
  const full = new Map<string, string>();
  const partial = new Set<string>();
  let chars = 0;

  const keep = (key: string, body: string) => {
    if (body.length > maxChars || full.has(key)) return;
    full.set(key, body);
    chars += body.length;
    for (const [oldest, page] of full) {
      if (chars <= maxChars) break;
      full.delete(oldest);
      chars -= page.length;
    }
  };

  return {
    get(key) {
      const page = full.get(key);
      if (page !== undefined) {
        full.delete(key);
        full.set(key, page);
        metrics.recordCacheLookup(true);
        return page;
      }
      if (partial.has(key)) return undefined;
      return shared.get(key).then((body) => {
        if (body !== undefined) keep(key, body);
        return body;
      });
    },
    remember(key, body, isFull) {
      if (!isFull) {
        if (partial.size >= maxPartial) partial.delete(partial.values().next().value as string);
        partial.add(key);
        return;
      }
      partial.delete(key);
      keep(key, body);
      void shared.set(key, body, sharedTtlSeconds);
    },
  };
}
