// The blackboard's page cache: full pages in memory in front of the shared cache (here the kit's
// in-process cache standing in for Redis), partial pages never served from any cache.
import { countedCache } from "../../../services/kit/cache";
import { createMemoryCache } from "../../../services/kit/memory-cache";
import { createPageCache } from "../../../services/blackboard/page-cache";

function setup(maxChars?: number) {
  const lookups: boolean[] = [];
  const metrics = { recordCacheLookup: (hit: boolean) => void lookups.push(hit) };
  const shared = countedCache(createMemoryCache(), metrics);
  const pages = createPageCache({ shared, metrics, sharedTtlSeconds: 60, maxChars });
  return { pages, shared, lookups };
}

describe("page cache", () => {
  it("serves a full page from memory, counted as a cache hit, and shares it", async () => {
    const { pages, shared, lookups } = setup();
    expect(await pages.get("k")).toBeUndefined();
    expect(lookups).toEqual([false]);
    pages.remember("k", "full page", true);
    expect(await pages.get("k")).toBe("full page");
    expect(lookups).toEqual([false, true]);
    await new Promise((r) => setImmediate(r));
    expect(await shared.get("k")).toBe("full page");
  });

  it("takes a page another replica shared, then keeps it in memory", async () => {
    const { pages, shared, lookups } = setup();
    await shared.set("k", "from a replica", 60);
    expect(await pages.get("k")).toBe("from a replica");
    await shared.delete("k");
    expect(await pages.get("k")).toBe("from a replica");
    expect(lookups).toEqual([true, true]);
  });

  it("never serves a page it found partial, and skips the shared cache for it until it is full", async () => {
    const { pages, shared, lookups } = setup();
    pages.remember("k", "partial", false);
    await shared.set("k", "shared meanwhile", 60);
    expect(await pages.get("k")).toBeUndefined();
    expect(lookups).toEqual([]);
    pages.remember("k", "now full", true);
    expect(await pages.get("k")).toBe("now full");
  });

  it("drops the least recently used pages beyond its size", async () => {
    const { pages } = setup(10);
    pages.remember("a", "aaaa", true);
    pages.remember("b", "bbbb", true);
    expect(await pages.get("a")).toBe("aaaa"); // a is now the most recently used
    pages.remember("c", "cccc", true);
    expect(pages.get("b")).toBeInstanceOf(Promise); // not in memory: asks the shared cache
    expect(pages.get("a")).toBe("aaaa");
    expect(pages.get("c")).toBe("cccc");
    pages.remember("huge", "x".repeat(11), true);
    expect(pages.get("huge")).toBeInstanceOf(Promise);
  });
});
