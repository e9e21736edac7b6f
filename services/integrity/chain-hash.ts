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
 * The canonical JSON of an entry up to its sequence number, which the database completes with
 * `<sequence>}` once it has locked the chain head: the whole append is then one statement.
 */
export function canonicalEntryBeforeSequence(entry: Omit<ChainedEntry, "sequence">): string {
  const full = canonicalEntry({ ...entry, sequence: 0 });
  const tail = '"sequence":0}';
  if (!full.endsWith(tail)) throw new Error("canonical entry does not end with its sequence");
  return full.slice(0, -"0}".length);
}
