// Shared reads of a page: at most one read per key in flight, the requests that arrive during it
// sharing the next one, so that no answer comes from a read that started before its request.
import { createSharedReads } from "../../services/kit/shared-reads";

/** A read whose answer the test gives, counting the reads started. */
function controlledReads() {
  const pending: { resolve(value: string): void; reject(error: Error): void }[] = [];
  const read = () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  const settle = async () => new Promise((r) => setImmediate(r));
  return { read, pending, settle };
}

describe("shared reads", () => {
  it("answers the first request with its own read, and the requests during it with one read started after them", async () => {
    const reads = createSharedReads<string>();
    const { read, pending, settle } = controlledReads();
    const first = reads.read("page", read);
    const during = [reads.read("page", read), reads.read("page", read), reads.read("page", read)];
    expect(pending).toHaveLength(1);
    pending[0].resolve("before");
    expect(await first).toBe("before");
    await settle();
    // The requests that came during the first read did not get its answer: a second read started.
    expect(pending).toHaveLength(2);
    pending[1].resolve("after");
    expect(await Promise.all(during)).toEqual(["after", "after", "after"]);
    await settle();
    expect(pending).toHaveLength(2);
  });

  it("keeps keys apart, and starts a fresh read once a key is idle", async () => {
    const reads = createSharedReads<string>();
    const { read, pending, settle } = controlledReads();
    const a = reads.read("a", read);
    const b = reads.read("b", read);
    expect(pending).toHaveLength(2);
    pending[0].resolve("a1");
    pending[1].resolve("b1");
    expect([await a, await b]).toEqual(["a1", "b1"]);
    await settle();
    const again = reads.read("a", read);
    expect(pending).toHaveLength(3);
    pending[2].resolve("a2");
    expect(await again).toBe("a2");
  });

  it("gives a failed read's error to every request sharing it, and reads again for the next", async () => {
    const reads = createSharedReads<string>();
    const { read, pending, settle } = controlledReads();
    const first = reads.read("page", read);
    const shared = [reads.read("page", read), reads.read("page", read)];
    pending[0].reject(new Error("first down"));
    await expect(first).rejects.toThrow("first down");
    await settle();
    pending[1].reject(new Error("still down"));
    for (const s of shared) await expect(s).rejects.toThrow("still down");
    await settle();
    const later = reads.read("page", read);
    pending[2].resolve("back");
    expect(await later).toBe("back");
  });
});
