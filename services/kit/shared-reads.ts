// Requests for the same data share their reads, as group commit shares writes: agents polling a
// blackboard topic all ask for its last page, evolve requests all read the recorded decisions, and
// one read can answer all of them. A request that arrives while its key is
// being read waits for the next read, not the current one (which may have started before the
// request was sent), so an answer is never older than its request. At most one read per key is
// in flight; every request that arrived meanwhile shares the one after it (made with the
// read function of the request that started the flight).

export interface SharedReads<T> {
  /** `read` for `key`, or the answer of a read of `key` that starts after this call. */
  read(key: string, read: () => Promise<T>): Promise<T>;
}

interface Waiting<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface Flight<T> {
  /** The requests that came while the current read ran; they share the next one. */
  next?: Waiting<T>;
}

export function createSharedReads<T>(): SharedReads<T> {
  const flights = new Map<string, Flight<T>>();

  const run = (key: string, flight: Flight<T>, read: () => Promise<T>): Promise<T> => {
    const answer = read();
    const after = () => {
      const next = flight.next;
      flight.next = undefined;
      if (next === undefined) flights.delete(key);
      else run(key, flight, read).then(next.resolve, next.reject);
    };
    answer.then(after, after);
    return answer;
  };

  return {
    read(key, read) {
      const flight = flights.get(key);
      if (flight === undefined) {
        const started: Flight<T> = {};
        flights.set(key, started);
        return run(key, started, read);
      }
      flight.next ??= waiting<T>();
      return flight.next.promise;
    },
  };
}

function waiting<T>(): Waiting<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
