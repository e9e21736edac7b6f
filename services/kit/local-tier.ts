// A bounded in-process Map with expiry, read synchronously: the in-process tier of the decision and
// verdict caches (a hit costs no promise and can hold parsed values rather than text to parse on
// every request), and the cache of a service run without Redis.

export interface LocalTier<T> {
  get(key: string): T | undefined;
  set(key: string, value: T, ttlSeconds: number): void;
  delete(key: string): void;
  clear(): void;
}

export function createLocalTier<T>(maxEntries: number): LocalTier<T> {
  const entries = new Map<string, { readonly value: T; readonly expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, ttlSeconds) {
      entries.delete(key);
      // Map keeps insertion order, so the first key is the oldest write.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
  };
}
