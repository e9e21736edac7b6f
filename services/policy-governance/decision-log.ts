// Group commit for the decision log: decisions arriving while one append runs are appended
// together by the next, so recording every decision costs one statement per batch, not per request.
import type { DecisionToRecord, PolicyStore } from "./store";

export type RecordOutcome =
  | { readonly recorded: true; readonly id: number; readonly generation: number }
  /** Made under an older generation than the current one: decide again under `generation`. */
  | { readonly recorded: false; readonly generation: number };

interface Pending {
  readonly decision: DecisionToRecord;
  resolve(outcome: RecordOutcome): void;
  reject(error: unknown): void;
}

export interface DecisionLog {
  record(decision: DecisionToRecord): Promise<RecordOutcome>;
}

export function createDecisionLog(store: Pick<PolicyStore, "recordDecisions">, maxBatch = 500): DecisionLog {
  let queue: Pending[] = [];
  let flushing = false;

  const append = async (batch: readonly Pending[]) => {
    try {
      const { generation, ids } = await store.recordDecisions(batch.map((p) => p.decision));
      let current = 0;
      for (const p of batch) if (p.decision.generation === generation) current++;
      if (ids.length !== current) throw new Error(`decision log returned ${ids.length} ids for ${current} decisions`);
      let next = 0;
      for (const p of batch) {
        p.resolve(p.decision.generation === generation ? { recorded: true, id: ids[next++], generation } : { recorded: false, generation });
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };

  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      await append(batch);
    }
    flushing = false;
  };

  return {
    record(decision) {
      return new Promise<RecordOutcome>((resolve, reject) => {
        queue.push({ decision, resolve, reject });
        // Started on the next turn of the event loop, so every decision made in this one joins it.
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      });
    },
  };
}
