// The recorded enforcement decisions, read from policy-governance (GET /api/v1/decisions, paged
// by id). Fields this search does not use are ignored; a body without the ones it does use is a
// broken contract, reported as such rather than searched over.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { ServiceClient } from "../kit/service-client";
import type { RecordedDecision } from "./decision-fitness";

export const MAX_DECISIONS = 10_000;
const PAGE = 1000;

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
    /** SHA-256 of the decisions as searched. */
    readonly digest: string;
  };
}

/** policy-governance answered, but not with decisions. */
export class DecisionSourceError extends Error {
  constructor(readonly detail: string) {
    super(`policy-governance answered unexpectedly: ${detail}`);
    this.name = "DecisionSourceError";
  }
}

export async function fetchDecisions(client: ServiceClient, requestId?: string): Promise<DecisionSet> {
  const decisions: (RecordedDecision & { id: number })[] = [];
  let since = 0;
  let truncated = false;
  for (;;) {
    const limit = Math.min(PAGE, MAX_DECISIONS - decisions.length);
    const answer = await client.call(`/api/v1/decisions?since=${since}&limit=${limit}`, { requestId });
    if (answer.status !== 200) throw new DecisionSourceError(`GET /api/v1/decisions answered ${answer.status}`);
    const page = pageSchema.safeParse(answer.body);
    if (!page.success) throw new DecisionSourceError(`GET /api/v1/decisions: ${page.error.issues[0].path.join(".")}: ${page.error.issues[0].message}`);
    for (const { id, subject, action, resource, decision } of page.data.decisions) decisions.push({ id, subject, action, resource, decision });
    const more = page.data.has_more ?? page.data.decisions.length === limit;
    if (!more || page.data.decisions.length === 0) break;
    if (decisions.length >= MAX_DECISIONS) {
      truncated = true;
      break;
    }
    since = decisions[decisions.length - 1].id;
  }
  const digest = createHash("sha256");
  for (const d of decisions) digest.update(`${JSON.stringify([d.id, d.subject, d.action, d.resource, d.decision])}\n`);
  return {
    decisions,
    summary: {
      count: decisions.length,
      first_id: decisions[0]?.id ?? null,
      last_id: decisions.at(-1)?.id ?? null,
      truncated,
      digest: digest.digest("hex"),
    },
  };
}
