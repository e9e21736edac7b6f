// Concurrent requests share one read of the recorded decisions, as group commit shares a write:
// a request joins a read that started after it arrived, or else waits for the next one, so every
// answer still searches decisions read after its request came in (none recorded before it is
// missed), while a busy service reads once per round trip instead of once per request. The read
// carries the request id of the request that started it.

export interface SharedReads<T> {
  /** A result read after this call was made. */
  read(requestId?: string): Promise<T>;
}

export function sharedReads<T>(load: (requestId?: string) => Promise<T>): SharedReads<T> {
  /** The read in flight, if any (it started before anyone now calling). */
  let running: Promise<unknown> | undefined;
  /** The read that starts when the one in flight ends: the one callers join now. */
  let next: Promise<T> | undefined;

  const start = (requestId?: string): Promise<T> => {
    const reading = load(requestId);
    running = reading;
    const clear = () => {
      if (running === reading) running = undefined;
    };
    reading.then(clear, clear);
    return reading;
  };

  return {
    read(requestId) {
      if (running === undefined) return start(requestId);
      // The running read may have begun before this request: wait for it, then read afresh.
      next ??= running.then(
        () => undefined,
        () => undefined,
      ).then(() => {
        next = undefined;
        return start(requestId);
      });
      return next;
    },
  };
}
