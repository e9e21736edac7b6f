// A read that is always fresh yet cheap under load: each caller gets the result of a read started
// after its call, and callers that arrive while a read runs share the next one. So a change
// committed by another replica is seen by every request that starts after the commit, at one
// query per batch of concurrent requests instead of one per request.

export function freshRead<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const current = read();
    running = current;
    const clear = () => {
      if (running === current) running = undefined;
    };
    current.then(clear, clear);
    return current;
  };
  const settle = () => undefined;
  return () => {
    if (running === undefined) return start();
    queued ??= running.then(settle, settle).then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  };
}
