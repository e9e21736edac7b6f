// Group commit: while one batch is being written, the items that arrive wait together and are
// written by the next batch, so one transaction serves many callers. Each caller is answered with
// its own result once its batch is written; when a batch fails, every caller in it gets the error.

/** Writes a batch in one go; resolves with one result per item, in order, or rejects for all. */
export type BatchWriter<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

export interface GroupCommit<I, O> {
  /** Resolves with the item's result once the batch it was written in succeeded. */
  submit(item: I): Promise<O>;
  /** Items waiting for the next batch (not yet being written). */
  readonly waiting: number;
  /** Batches written or failed, and the items they held, since start. */
  readonly batches: number;
  readonly items: number;
}

interface Waiter<I, O> {
  readonly item: I;
  resolve(result: O): void;
  reject(error: unknown): void;
}

export interface BatchLimits<I> {
  readonly maxItems: number;
  /** A batch stops before the item that would take its weight over maxWeight (it holds one at least). */
  readonly maxWeight: number;
  readonly weigh: (item: I) => number;
}

export function createGroupCommit<I, O>(write: BatchWriter<I, O>, limits: BatchLimits<I>): GroupCommit<I, O> {
  let queue: Waiter<I, O>[] = [];
  let writing = false;
  let batches = 0;
  let items = 0;

  const nextBatch = (): Waiter<I, O>[] => {
    let count = 0;
    let weight = 0;
    while (count < queue.length && count < limits.maxItems) {
      weight += limits.weigh(queue[count].item);
      if (count > 0 && weight > limits.maxWeight) break;
      count += 1;
    }
    const batch = count === queue.length ? queue : queue.slice(0, count);
    queue = count === queue.length ? [] : queue.slice(count);
    return batch;
  };

  // One loop at a time: it takes what is waiting (within the limits), writes it, and repeats.
  const drain = async () => {
    writing = true;
    while (queue.length > 0) {
      const batch = nextBatch();
      batches += 1;
      items += batch.length;
      try {
        const results = await write(batch.map((w) => w.item));
        if (results.length !== batch.length) throw new Error(`batch of ${batch.length} answered ${results.length} results`);
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    writing = false;
  };

  return {
    submit: (item) =>
      new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Idle: the first item is written at once, alone; the ones arriving meanwhile gather.
        if (!writing) void drain();
      }),
    get waiting() {
      return queue.length;
    },
    get batches() {
      return batches;
    },
    get items() {
      return items;
    },
  };
}
