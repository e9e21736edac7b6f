// Group commit: while one batch is being written, the items that arrive wait together and are
// written by the next batch, so one transaction serves many callers. Each caller is answered with
// its own result once its batch is written; when a batch fails, every caller in it gets the error.
// integrity's audit appends and policy-governance's decision log write this way; the coordinator's
// two-step intake sizes its batches with batchLength.

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

export interface GroupCommitOptions {
  /**
   * Idle, start the first batch on the next turn of the event loop, so every item submitted in this
   * turn joins it; by default it is written at once, alone, and the ones arriving meanwhile gather.
   */
  readonly gatherTurn?: boolean;
}

/** How many of `items`, from the first, go in the next batch (one at least, when there is one). */
export function batchLength<T>(items: readonly T[], limits: BatchLimits<T>): number {
  let count = 0;
  let weight = 0;
  while (count < items.length && count < limits.maxItems) {
    weight += limits.weigh(items[count]);
    if (count > 0 && weight > limits.maxWeight) break;
    count += 1;
  }
  return count;
}

export function createGroupCommit<I, O>(write: BatchWriter<I, O>, limits: BatchLimits<I>, { gatherTurn = false }: GroupCommitOptions = {}): GroupCommit<I, O> {
  let queue: Waiter<I, O>[] = [];
  let writing = false;
  let batches = 0;
  let items = 0;
  const itemLimits: BatchLimits<Waiter<I, O>> = { maxItems: limits.maxItems, maxWeight: limits.maxWeight, weigh: (w) => limits.weigh(w.item) };

  const nextBatch = (): Waiter<I, O>[] => {
    const count = batchLength(queue, itemLimits);
    const batch = count === queue.length ? queue : queue.slice(0, count);
    queue = count === queue.length ? [] : queue.slice(count);
    return batch;
  };

  // One loop at a time: it takes what is waiting (within the limits), writes it, and repeats.
  const drain = async () => {
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
        if (writing) return;
        writing = true;
        if (gatherTurn) setImmediate(drain);
        else void drain();
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
