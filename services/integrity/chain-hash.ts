// The link of the audit chain: hash = SHA-256(previous hash || canonical JSON of the entry), hex.
// Everything that makes an entry what it is (its place in the chain and its time included) is
// hashed, so moving, back-dating or editing an entry breaks the link.
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json";

/** The "previous hash" of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

export interface ChainedEntry {
  readonly sequence: number;
  readonly actor: string;
  readonly action: string;
  readonly decision: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** ISO 8601 with milliseconds, UTC. */
  readonly recorded_at: string;
}

export function chainHash(previousHash: string, entry: ChainedEntry): string {
  return createHash("sha256").update(previousHash).update(canonicalEntry(entry)).digest("hex");
}

/** The canonical JSON of an entry; "sequence" sorts last of its keys. */
export function canonicalEntry({ sequence, actor, action, decision, details, recorded_at }: ChainedEntry): string {
  return canonicalJson({ sequence, actor, action, decision, details, recorded_at });
}

/**
 * The canonical JSON of an entry up to its sequence number, which `linkHash` completes with
 * `<sequence>}` once the chain head is locked: the costly part is done before taking the lock.
 * canonicalEntry's keys, written out in their sorted order ("sequence" last), as it runs per append.
 */
export function canonicalEntryBeforeSequence({ actor, action, decision, details, recorded_at }: Omit<ChainedEntry, "sequence">): string {
  return `{"action":${JSON.stringify(action)},"actor":${JSON.stringify(actor)},"decision":${JSON.stringify(decision)},"details":${canonicalJson(details)},"recorded_at":${JSON.stringify(recorded_at)},"sequence":`;
}

/** chainHash, from the entry's canonicalEntryBeforeSequence and the sequence it is given. */
export function linkHash(previousHash: string, canonicalBeforeSequence: string, sequence: number): string {
  return createHash("sha256").update(previousHash).update(canonicalBeforeSequence).update(`${sequence}}`).digest("hex");
}
