// The recorded enforcement decisions, read from policy-governance (GET /api/v1/decisions, paged
// by id). Fields this search does not use are ignored; a body without the ones it does use is a
// broken contract, reported as such rather than searched over.
//
// The read is incremental: policy-governance makes decision ids visible in increasing order (its
// appends are ordered by an advisory lock), so the decisions read so far stay valid and each read
// only asks for those after the last id held, usually an empty page. The set, its summary and its
// digest are extended in place of being recomputed, and equal what a full read would give. Each
// read also asks again for the last decision held: if it is gone or different, policy-governance's
// log was replaced (a recreated database), and the set is read again from the start.
import { createHash, type Hash } from "node:crypto";
import { z } from "zod";
import { createSharedReads } from "../kit/shared-reads";
import type { ServiceClient } from "../kit/service-client";
import type { RecordedDecision } from "./decision-fitness";

export const MAX_DECISIONS = 10_000;
const PAGE = 1000; // policy-governance's largest page

const pageSchema = z.object({
  decisions: z.array(
    z.object({
      id: z.number().int(),
      subject: z.string(),
      action: z.string(),
      resource: z.string(),
      decision: z.enum(["allow", "deny"]),
    }),
  ),
  has_more: z.boolean().optional(),
});

export interface DecisionSet {
  readonly decisions: readonly RecordedDecision[];
  /** What a caller needs to tell whether two runs searched the same data. */
  readonly summary: {
    readonly count: number;
    readonly first_id: number | null;
    readonly last_id: number | null;
    /** At MAX_DECISIONS: later decisions were left out. */
    readonly truncated: boolean;
    /** SHA-256 of the decisions as searched: one line `JSON.stringify([id, subject, action, resource, decision])` + "\n" each. */
    readonly digest: string;
  };
  /** Sets of one lineage are read from one log: the longer one starts with all of the shorter one. */
  readonly lineage: object;
}

/** policy-governance answered, but not with decisions. */
export class DecisionSourceError extends Error {
  constructor(readonly detail: string) {
    super(`policy-governance answered unexpectedly: ${detail}`);
    this.name = "DecisionSourceError";
  }
}

export interface DecisionSource {
  /** The decisions as of a read that started after this call (reads are shared by concurrent callers). */
  read(requestId?: string): Promise<DecisionSet>;
}

type Decision = RecordedDecision & { readonly id: number };

/** What the source holds between reads; replaced whole when a read brings something new. */
interface Held {
  readonly set: DecisionSet;
  /** Running SHA-256 over the held decisions, never finalized (digests are taken from copies). */
  readonly hash: Hash;
  /** The last decision exactly as policy-governance sent it, to recognize it on the next read. */
  readonly lastSent: string | undefined;
}

export function createDecisionSource(client: ServiceClient): DecisionSource {
  let held = empty();
  const reads = createSharedReads<DecisionSet>();

  const page = async (since: number, limit: number, requestId: string | undefined) => {
    const answer = await client.call(`/api/v1/decisions?since=${since}&limit=${limit}`, { requestId });
    if (answer.status !== 200) throw new DecisionSourceError(`GET /api/v1/decisions answered ${answer.status}`);
    const parsed = pageSchema.safeParse(answer.body);
    if (!parsed.success) throw new DecisionSourceError(`GET /api/v1/decisions: ${parsed.error.issues[0].path.join(".")}: ${parsed.error.issues[0].message}`);
    const sent = (answer.body as { decisions: unknown[] }).decisions;
    return { ...parsed.data, sent };
  };

  // Reads what follows `from` and returns the extended state (or `from` itself when nothing is new).
  // Nothing is changed before every page has arrived and passed, so a failed read changes nothing.
  const extend = async (from: Held, requestId: string | undefined): Promise<Held> => {
    const fresh: Decision[] = [];
    let guarding = from.lastSent !== undefined;
    let since = (from.set.summary.last_id ?? 0) - (guarding ? 1 : 0);
    let truncated = from.set.summary.truncated;
    let lastSent = from.lastSent;
    for (;;) {
      const room = MAX_DECISIONS - from.set.decisions.length - fresh.length;
      // With no room left, one more decision is asked for only to learn whether the set is truncated.
      const limit = Math.min(PAGE, (guarding ? 1 : 0) + (room > 0 ? room : truncated ? 0 : 1));
      const answer = await page(since, limit, requestId);
      let rows = answer.decisions;
      if (guarding) {
        if (rows.length === 0 || rows[0].id !== from.set.summary.last_id || JSON.stringify(answer.sent[0]) !== from.lastSent) {
          return extend(empty(), requestId); // the log was replaced: read it again from the start
        }
        rows = rows.slice(1);
        guarding = false;
      }
      for (const row of rows.slice(0, Math.max(room, 0))) {
        const previous = fresh.at(-1)?.id ?? from.set.summary.last_id ?? 0;
        if (row.id <= previous) throw new DecisionSourceError(`GET /api/v1/decisions: ids not increasing after ${previous} (got ${row.id})`);
        fresh.push({ id: row.id, subject: row.subject, action: row.action, resource: row.resource, decision: row.decision });
      }
      if (rows.length > room) {
        if (room > 0) lastSent = JSON.stringify(answer.sent[answer.sent.length - rows.length + room - 1]);
        truncated = true;
        break;
      }
      if (rows.length > 0) lastSent = JSON.stringify(answer.sent.at(-1));
      const more = answer.has_more ?? answer.decisions.length === limit;
      if (!more || rows.length === 0) break;
      if (room - rows.length <= 0) {
        truncated = true;
        break;
      }
      since = rows[rows.length - 1].id;
    }
    if (fresh.length === 0 && truncated === from.set.summary.truncated) return from;
    const hash = from.hash; // extended in place: `from` is replaced by the result, and reads never overlap
    for (const d of fresh) hash.update(line(d));
    const decisions = fresh.length === 0 ? from.set.decisions : [...(from.set.decisions as Decision[]), ...fresh];
    return {
      hash,
      lastSent,
      set: {
        decisions,
        summary: {
          count: decisions.length,
          first_id: (decisions[0] as Decision | undefined)?.id ?? null,
          last_id: (decisions.at(-1) as Decision | undefined)?.id ?? null,
          truncated,
          digest: hash.copy().digest("hex"),
        },
        lineage: from.set.lineage,
      },
    };
  };

  return {
    read: (requestId) =>
      reads.read("decisions", async () => {
        held = await extend(held, requestId);
        return held.set;
      }),
  };
}

function empty(): Held {
  const hash = createHash("sha256");
  return {
    hash,
    lastSent: undefined,
    set: { decisions: [], summary: { count: 0, first_id: null, last_id: null, truncated: false, digest: hash.copy().digest("hex") }, lineage: {} },
  };
}

function line(d: Decision): string {
  return `${JSON.stringify([d.id, d.subject, d.action, d.resource, d.decision])}\n`;
}
