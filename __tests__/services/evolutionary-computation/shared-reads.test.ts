import { sharedReads } from "../../../services/evolutionary-computation/shared-reads";

/** A load whose reads finish when the test says, each returning the number of the read. */
function controlledLoad() {
  const pending: (() => void)[] = [];
  let started = 0;
  const load = (requestId?: string) =>
    new Promise<{ read: number; requestId?: string }>((resolve) => {
      const read = ++started;
      pending.push(() => resolve({ read, requestId }));
    });
  return { load, started: () => started, finishOldest: async () => { pending.shift()!(); await new Promise((r) => setImmediate(r)); } };
}

describe("sharedReads", () => {
  it("starts a read at once when none is running", async () => {
    const control = controlledLoad();
    const reads = sharedReads(control.load);
    const first = reads.read("a");
    expect(control.started()).toBe(1);
    await control.finishOldest();
    expect(await first).toEqual({ read: 1, requestId: "a" });
  });

  it("never answers a request with a read that started before it; later arrivals share the next read", async () => {
    const control = controlledLoad();
    const reads = sharedReads(control.load);
    const early = reads.read("early");
    // These arrive while read 1 runs: it may predate their decisions, so they must not get it.
    const late = [reads.read("late-1"), reads.read("late-2"), reads.read("late-3")];
    expect(control.started()).toBe(1);
    await control.finishOldest();
    expect(await early).toMatchObject({ read: 1 });
    // One read for the three, started after read 1 ended and carrying the first one's id.
    expect(control.started()).toBe(2);
    await control.finishOldest();
    expect(await Promise.all(late)).toEqual([1, 2, 3].map(() => ({ read: 2, requestId: "late-1" })));
  });

  it("a failed read fails only its own callers; the next caller reads afresh", async () => {
    let calls = 0;
    const reads = sharedReads(async () => {
      calls++;
      if (calls === 1) throw new Error("policy-governance down");
      return calls;
    });
    await expect(reads.read()).rejects.toThrow("policy-governance down");
    await expect(reads.read()).resolves.toBe(2);
  });

  it("callers waiting behind a failed read still get a read of their own", async () => {
    let fail: (error: Error) => void = () => {};
    let calls = 0;
    const reads = sharedReads(() => {
      calls++;
      return calls === 1 ? new Promise<number>((_, reject) => (fail = reject)) : Promise.resolve(calls);
    });
    const first = reads.read();
    const waiting = reads.read();
    fail(new Error("timeout"));
    await expect(first).rejects.toThrow("timeout");
    await expect(waiting).resolves.toBe(2);
  });
});
