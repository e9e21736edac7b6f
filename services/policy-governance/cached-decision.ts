// A decision as the in-process cache keeps it: parsed once, with the texts that every answer and
// every row of the decision log reuse, so a cached decision is not parsed or serialized per request.
import type { CacheCodec } from "../decision-cache/tiered-cache";
import type { Decision } from "./decide";
import { decisionColumns } from "./store";

export interface CachedDecision {
  readonly decision: Decision;
  /** The decision's JSON without its closing brace: an answer appends its own fields to it. */
  readonly answerHead: string;
  /** The decision's columns of the decision log (decisionColumns). */
  readonly columns: string;
}

export function cachedDecision(decision: Decision): CachedDecision {
  return { decision, answerHead: JSON.stringify(decision).slice(0, -1), columns: decisionColumns(decision) };
}

/** The shared cache (Redis) holds the decision's JSON, as it always has; what is not one is a miss. */
export const cachedDecisionCodec: CacheCodec<CachedDecision> = {
  encode: (entry) => `${entry.answerHead}}`,
  decode: (text) => {
    const decision = JSON.parse(text) as Decision | null;
    if (decision?.decision !== "allow" && decision?.decision !== "deny") throw new Error("not a cached decision");
    return cachedDecision(decision);
  },
};
