// The per-append shortcut of the chain hash (canonical JSON written before the sequence is known,
// completed once the head is locked) must give exactly the hash the verifier recomputes.
import { canonicalEntry, canonicalEntryBeforeSequence, chainHash, GENESIS_HASH, linkHash, type ChainedEntry } from "../../../services/integrity/chain-hash";

const ENTRIES: Omit<ChainedEntry, "sequence">[] = [
  { actor: "agent-7", action: "enforce", decision: "deny", details: {}, recorded_at: "2026-01-02T03:04:05.006Z" },
  {
    actor: 'quote " and \\ backslash',
    action: "naïve ✓ 😀",
    decision: "allow\nnext line",
    details: { z: 2.5, a: { y: [1e21, -0, "ü"], b: null }, "": true, "\u0001": "control", "😀": [{ b: 1, a: 2 }] },
    recorded_at: "1999-12-31T23:59:59.999Z",
  },
];

describe("chain hash", () => {
  it.each(ENTRIES.flatMap((entry) => [1, 42, 9_007_199_254_740_991].map((sequence) => [sequence, entry] as const)))(
    "links entry %# (sequence %d) as chainHash does",
    (sequence, entry) => {
      expect(`${canonicalEntryBeforeSequence(entry)}${sequence}}`).toBe(canonicalEntry({ ...entry, sequence }));
      const previous = chainHash(GENESIS_HASH, { ...entry, sequence: sequence + 1 });
      expect(linkHash(previous, canonicalEntryBeforeSequence(entry), sequence)).toBe(chainHash(previous, { ...entry, sequence }));
    },
  );

  it("changes with any field, the sequence and the previous hash", () => {
    const entry = ENTRIES[0];
    const base = linkHash(GENESIS_HASH, canonicalEntryBeforeSequence(entry), 1);
    expect(linkHash(GENESIS_HASH, canonicalEntryBeforeSequence(entry), 2)).not.toBe(base);
    expect(linkHash("1".repeat(64), canonicalEntryBeforeSequence(entry), 1)).not.toBe(base);
    for (const change of [{ actor: "x" }, { action: "x" }, { decision: "x" }, { details: { x: 1 } }, { recorded_at: "2026-01-02T03:04:05.007Z" }]) {
      expect(linkHash(GENESIS_HASH, canonicalEntryBeforeSequence({ ...entry, ...change }), 1)).not.toBe(base);
    }
  });
});
