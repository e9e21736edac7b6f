// The group commit on its own, with a writer the test controls: what waits while a batch is
// written goes into the next batch, in order, within the limits; a failed batch fails all of its
// callers and only them.
import { batchLength, createGroupCommit, type BatchLimits } from "../../services/kit/group-commit";

/** A writer whose batches the test completes or fails one by one. */
function controlledWriter() {
  const calls: { items: readonly string[]; finish(): void; fail(error: Error): void }[] = [];
  const write = (items: readonly string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ items, finish: () => resolve(items.map((item) => `written ${item}`)), fail: reject });
    });
  return { calls, write };
}

const noWeight: BatchLimits<string> = { maxItems: 100, maxWeight: Infinity, weigh: () => 0 };
const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: Error) => ({ error: error.message }));

describe("group commit", () => {
  it("writes the first item at once, and what arrives meanwhile as the next batch, in order", async () => {
    const { calls, write } = controlledWriter();
    const group = createGroupCommit(write, noWeight);
    const first = group.submit("a");
    expect(calls.map((c) => c.items)).toEqual([["a"]]);
    const rest = ["b", "c", "d"].map((item) => group.submit(item));
    expect(group.waiting).toBe(3);
    expect(calls).toHaveLength(1); // one batch at a time

    calls[0].finish();
    await expect(first).resolves.toBe("written a");
    expect(calls.map((c) => c.items)).toEqual([["a"], ["b", "c", "d"]]);
    expect(group.waiting).toBe(0);
    calls[1].finish();
    await expect(Promise.all(rest)).resolves.toEqual(["written b", "written c", "written d"]);
    expect({ batches: group.batches, items: group.items }).toEqual({ batches: 2, items: 4 });
  });

  it("fails every caller of a failed batch, and none of the next batch", async () => {
    const { calls, write } = controlledWriter();
    const group = createGroupCommit(write, noWeight);
    const blocker = settle(group.submit("a"));
    const failing = ["b", "c"].map((item) => settle(group.submit(item)));
    calls[0].finish();
    await blocker;
    const later = settle(group.submit("d"));
    calls[1].fail(new Error("batch rolled back"));
    expect(await Promise.all(failing)).toEqual([{ error: "batch rolled back" }, { error: "batch rolled back" }]);
    expect(calls.map((c) => c.items)).toEqual([["a"], ["b", "c"], ["d"]]);
    calls[2].finish();
    expect(await later).toEqual({ value: "written d" });
  });

  it("cuts batches at maxItems and before the item that would pass maxWeight, one item at least", async () => {
    const { calls, write } = controlledWriter();
    const group = createGroupCommit(write, { maxItems: 3, maxWeight: 10, weigh: (item) => item.length });
    const all = [group.submit("x"), ...["a", "b", "c", "d", "eeeeeeee", "ffff", "gggggggggggggg", "h"].map((item) => group.submit(item))];
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      calls[i]?.finish();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.items)).toEqual([["x"], ["a", "b", "c"], ["d", "eeeeeeee"], ["ffff"], ["gggggggggggggg"], ["h"]]);
  });

  it("with gatherTurn, writes everything submitted in one turn as the first batch, and goes on as usual", async () => {
    const { calls, write } = controlledWriter();
    const group = createGroupCommit(write, noWeight, { gatherTurn: true });
    const turn = ["a", "b", "c"].map((item) => group.submit(item));
    expect(calls).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.map((c) => c.items)).toEqual([["a", "b", "c"]]);
    const later = group.submit("d");
    calls[0].finish();
    await expect(Promise.all(turn)).resolves.toEqual(["written a", "written b", "written c"]);
    expect(calls.map((c) => c.items)).toEqual([["a", "b", "c"], ["d"]]);
    calls[1].finish();
    await expect(later).resolves.toBe("written d");
  });

  it("batchLength: the items that fit, one at least, none of none", () => {
    const limits: BatchLimits<string> = { maxItems: 3, maxWeight: 10, weigh: (item) => item.length };
    expect(batchLength([], limits)).toBe(0);
    expect(batchLength(["x".repeat(20), "y"], limits)).toBe(1);
    expect(batchLength(["aaaa", "bbbbbb", "c"], limits)).toBe(2);
    expect(batchLength(["a", "b", "c", "d"], limits)).toBe(3);
  });

  it("fails a batch whose writer answers the wrong number of results", async () => {
    const group = createGroupCommit(async (items: readonly string[]) => items.slice(1), noWeight);
    await expect(group.submit("a")).rejects.toThrow("batch of 1 answered 0 results");
    await expect(group.submit("b")).rejects.toThrow("batch of 1 answered 0 results");
  });
});
