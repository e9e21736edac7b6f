// Walks the audit chain from the first entry, recomputing every link from the hash before it, and
// reports the first link that does not hold. The head is read first: entries up to it are all
// committed (the head moves in the same transaction), so appends running meanwhile cannot make a
// sound chain look broken.
import { chainHash, GENESIS_HASH } from "./chain-hash";
import type { AuditStore } from "./store";

export interface BrokenLink {
  readonly sequence: number;
  readonly reason: "entry missing" | "previous_hash mismatch" | "hash mismatch" | "head mismatch";
  /** What the chain requires here (a hash), or null when nothing can be expected. */
  readonly expected: string | null;
  /** What is stored, or null when nothing is. */
  readonly actual: string | null;
}

export interface ChainReport {
  readonly valid: boolean;
  /** Entries the chain holds according to its head. */
  readonly length: number;
  /** Entries checked and found sound, from the first. */
  readonly verified: number;
  readonly head: { readonly sequence: number; readonly hash: string };
  readonly first_broken?: BrokenLink;
}

const BATCH = 1000;

export async function verifyChain(store: AuditStore): Promise<ChainReport> {
  const head = await store.head();
  let previous = GENESIS_HASH;
  let sequence = 0;
  const report = (first_broken?: BrokenLink): ChainReport => ({
    valid: first_broken === undefined,
    length: head.sequence,
    verified: sequence,
    head,
    ...(first_broken ? { first_broken } : {}),
  });

  for (;;) {
    const batch = await store.list(sequence, BATCH, head.sequence);
    for (const entry of batch) {
      const expectedSequence = sequence + 1;
      if (entry.sequence !== expectedSequence) {
        return report({ sequence: expectedSequence, reason: "entry missing", expected: null, actual: null });
      }
      if (entry.previous_hash !== previous) {
        return report({ sequence: entry.sequence, reason: "previous_hash mismatch", expected: previous, actual: entry.previous_hash });
      }
      const recomputed = chainHash(previous, entry);
      if (recomputed !== entry.hash) {
        return report({ sequence: entry.sequence, reason: "hash mismatch", expected: recomputed, actual: entry.hash });
      }
      previous = entry.hash;
      sequence = entry.sequence;
    }
    if (batch.length < BATCH) break;
    // Hashing a long chain is CPU work: let other requests in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (sequence < head.sequence) {
    return report({ sequence: sequence + 1, reason: "entry missing", expected: null, actual: null });
  }
  if (previous !== head.hash) {
    return report({ sequence: head.sequence, reason: "head mismatch", expected: previous, actual: head.hash });
  }
  return report();
}
