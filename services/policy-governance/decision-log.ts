// Group commit for the decision log (kit/group-commit.ts): decisions arriving while one append runs
// are appended together by the next, so recording every decision costs one statement per batch.
import { createGroupCommit } from "../kit/group-commit";
import type { DecisionToRecord, PolicyStore } from "./store";

export type RecordOutcome =
  | { readonly recorded: true; readonly id: number; readonly generation: number }
  /** Made under an older generation than the current one: decide again under `generation`. */
  | { readonly recorded: false; readonly generation: number };

export interface DecisionLog {
  record(decision: DecisionToRecord): Promise<RecordOutcome>;
}

export function createDecisionLog(store: Pick<PolicyStore, "recordDecisions">, maxBatch = 500): DecisionLog {
  // One outcome per decision of the batch, in order.
  const append = async (batch: readonly DecisionToRecord[]): Promise<RecordOutcome[]> => {
    const { generation, ids } = await store.recordDecisions(batch);
    let current = 0;
    for (const d of batch) if (d.generation === generation) current++;
    if (ids.length !== current) throw new Error(`decision log returned ${ids.length} ids for ${current} decisions`);
    let next = 0;
    return batch.map((d) => (d.generation === generation ? { recorded: true, id: ids[next++], generation } : { recorded: false, generation }));
  };
  // Started on the next turn of the event loop, so every decision made in this one joins the batch.
  const log = createGroupCommit(append, { maxItems: maxBatch, maxWeight: Infinity, weigh: () => 0 }, { gatherTurn: true });
  return { record: (decision) => log.submit(decision) };
}
