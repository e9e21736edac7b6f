// The leased read on its own, with a clock and reads the test controls: within its lease the last
// read answers, renewed half-way; past it a caller waits for a read started after its call; the
// lease runs from when the read started. And the writer's wait outlasts any lease taken before.
import { leasedRead, waitOutLease } from "../../../services/constitutional-ai/leased-read";

/** Reads the test completes one by one, each answering the value it is given. */
function controlledReads() {
  const started: { at: number; finish(value: string): void; fail(error: Error): void }[] = [];
  let clock = 0;
  const now = () => clock;
  const read = () =>
    new Promise<string>((resolve, reject) => {
      started.push({ at: clock, finish: resolve, fail: reject });
    });
  return { started, read, now, setClock: (ms: number) => (clock = ms) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const LEASE = 200;

describe("leased read", () => {
  it("reads once, answers from that read within the lease, and renews it half-way without making anyone wait", async () => {
    const { started, read, now, setClock } = controlledReads();
    const head = leasedRead(read, LEASE, now);
    const first = head();
    expect(started).toHaveLength(1);
    started[0].finish("v1");
    await expect(first).resolves.toBe("v1");

    setClock(50);
    await expect(head()).resolves.toBe("v1");
    setClock(99);
    await expect(head()).resolves.toBe("v1");
    expect(started).toHaveLength(1);

    setClock(100); // half-way: answered at once, renewed in the background, once
    await expect(head()).resolves.toBe("v1");
    await expect(head()).resolves.toBe("v1");
    expect(started.map((s) => s.at)).toEqual([0, 100]);
    started[1].finish("v2");
    await turn();
    setClock(150); // within the renewed lease, not half-way through it
    await expect(head()).resolves.toBe("v2");
    expect(started).toHaveLength(2);
    setClock(250); // past the first lease: the renewed one answers (and is renewed in turn)
    await expect(head()).resolves.toBe("v2");
    expect(started.map((s) => s.at)).toEqual([0, 100, 250]);
  });

  it("past the lease, answers only from a read started after the call, never the held value", async () => {
    const { started, read, now, setClock } = controlledReads();
    const head = leasedRead(read, LEASE, now);
    const first = head();
    started[0].finish("v1");
    await first;

    setClock(200);
    let answered: string | undefined;
    const late = head().then((value) => (answered = value));
    await turn();
    expect(answered).toBeUndefined();
    expect(started.map((s) => s.at)).toEqual([0, 200]);
    started[1].finish("v2");
    await late;
    expect(answered).toBe("v2");
  });

  it("counts the lease from when the read started, not from when it answered", async () => {
    const { started, read, now, setClock } = controlledReads();
    const head = leasedRead(read, LEASE, now);
    const first = head();
    setClock(150); // a slow read: it answers at 150
    started[0].finish("v1");
    await first;
    setClock(199);
    await expect(head()).resolves.toBe("v1");
    expect(started.map((s) => s.at)).toEqual([0, 199]); // renewed past half of it
    setClock(200);
    const next = head();
    // The renewal started before this call: the caller waits for a read after it.
    started[1].finish("v1");
    await turn();
    expect(started.map((s) => s.at)).toEqual([0, 199, 200]);
    started[2].finish("v2");
    await expect(next).resolves.toBe("v2");
  });

  it("rejects a caller past the lease when its read fails, and reads again for the next", async () => {
    const { started, read, now, setClock } = controlledReads();
    const head = leasedRead(read, LEASE, now);
    const first = head();
    started[0].finish("v1");
    await first;
    setClock(300);
    const failing = head();
    started[1].fail(new Error("database down"));
    await expect(failing).rejects.toThrow("database down");
    const again = head();
    expect(started).toHaveLength(3);
    started[2].finish("v2");
    await expect(again).resolves.toBe("v2");
  });

  it("waitOutLease resolves only after the lease, with room for clock rates and early timers, counted from the commit", async () => {
    const committedAt = performance.now();
    await waitOutLease(40, committedAt);
    expect(performance.now() - committedAt).toBeGreaterThanOrEqual(40 * 1.05 + 5);
    const long = Date.now();
    await waitOutLease(40, performance.now() - 1000); // committed long ago: nothing to wait for
    expect(Date.now() - long).toBeLessThan(40);
  });
});
