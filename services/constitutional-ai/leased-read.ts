// A read whose answer stands in for a fresh one for `leaseMs` after the read started, paired
// with a writer that waits out the lease after committing (waitOutLease). Then a request that
// starts after the write was acknowledged, on any replica, is answered from a read that started
// after the commit: the request started at t >= commit + lease, and the read it is given started
// after t - lease. So the guarantee of a fresh read per request holds, at one read per half
// lease per replica instead of one per batch of requests; only the durations on each side's own
// monotonic clock matter, never the clocks' agreement. Under steady traffic the read is renewed
// half-way through its lease, so no request waits for it.
import { freshRead } from "./fresh-read";

export function leasedRead<T>(read: () => Promise<T>, leaseMs: number, now: () => number = () => performance.now()): () => Promise<T> {
  let held: { readonly value: T; readonly startedAt: number } | undefined;
  let renewing = false;
  // Each caller without a valid lease gets a read started after its call (shared with the others waiting).
  const readAfterNow = freshRead(async () => {
    const startedAt = now();
    const value = await read();
    if (held === undefined || startedAt >= held.startedAt) held = { value, startedAt };
    return value;
  });
  const renew = () => {
    renewing = true;
    readAfterNow().then(
      () => (renewing = false),
      () => (renewing = false), // the next caller past the lease reads again and sees the error
    );
  };
  return () => {
    const age = held === undefined ? Infinity : now() - held.startedAt;
    if (age >= leaseMs) return readAfterNow();
    if (age >= leaseMs / 2 && !renewing) renew();
    return Promise.resolve(held!.value);
  };
}

/**
 * Resolves once every lease on reads that started before `committedAt` has run out, with room
 * for timers firing early and clocks running at slightly different rates.
 */
export function waitOutLease(leaseMs: number, committedAt: number, now: () => number = () => performance.now()): Promise<void> {
  const until = committedAt + leaseMs * 1.05 + 5;
  return new Promise((resolve) => {
    const check = () => {
      const left = until - now();
      if (left <= 0) resolve();
      else setTimeout(check, Math.ceil(left));
    };
    check();
  });
}
