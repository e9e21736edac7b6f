// The enforcement point: decisions cached under the policy generation they were made in, and each
// one recorded under the generation current at that moment, so a policy change acknowledged by
// any replica is never answered by a decision made before it.
import { DependencyUnavailableError } from "../kit/unavailable";
import type { AccessRequest } from "../policy-model/evaluate-rules";
import { requestKey } from "../decision-cache/request-key";
import type { DecisionCache } from "../decision-cache/tiered-cache";
import { cachedDecision, type CachedDecision } from "./cached-decision";
import { compilePolicies, decide, type CompiledPolicies, type Decision } from "./decide";
import { createDecisionLog } from "./decision-log";
import { decisionRow, type PolicyStore } from "./store";

const DECISION_TTL_SECONDS = 3600;
// Each retry follows a policy change that landed while deciding; more in a row means churn.
const MAX_ATTEMPTS = 5;

/** The answer of POST /api/v1/enforce. */
export interface EnforcedDecision extends Decision {
  readonly decision_id: number;
  readonly policy_generation: number;
  readonly cached: boolean;
}

export interface Enforcer {
  /** The EnforcedDecision as JSON text, built from the cached decision's own text. */
  enforce(request: AccessRequest): Promise<string>;
  /** A change made here: its generation is known without asking PostgreSQL. */
  advanceTo(generation: number): void;
}

export function createEnforcer(store: PolicyStore, cache: DecisionCache<CachedDecision>): Enforcer {
  const log = createDecisionLog(store);
  // The newest generation seen: a hint, confirmed by the append of each decision.
  let known: number | undefined;
  let loaded: CompiledPolicies | undefined;
  let loading: Promise<CompiledPolicies> | undefined;
  const advanceTo = (generation: number) => {
    if (known === undefined || generation > known) known = generation;
  };

  const load = () => {
    loading ??= store
      .activePolicies()
      .then((active) => {
        const compiled = compilePolicies(active);
        if (loaded === undefined || compiled.generation >= loaded.generation) loaded = compiled;
        advanceTo(compiled.generation);
        return compiled;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  const policiesAt = async (generation: number): Promise<CompiledPolicies> => {
    // A newer set is as good: the caller moves to its generation.
    if (loaded !== undefined && loaded.generation >= generation) return loaded;
    const compiled = await load();
    // A load already running may have started before `generation` was committed.
    return compiled.generation < generation ? load() : compiled;
  };

  return {
    advanceTo,
    async enforce(request) {
      // The normalized request: its three fields in a fixed order (what canonical JSON would give).
      const normalized = JSON.stringify([request.subject, request.action, request.resource]);
      const requestPart = requestKey(normalized);
      let generation = known ?? (await load()).generation;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const key = `decision:${generation}:${requestPart}`;
        // The in-process tier answers synchronously; only a miss there waits for Redis.
        let entry = cache.near(key) ?? (await cache.far(key));
        const cached = entry !== undefined;
        if (entry === undefined) {
          const policies = await policiesAt(generation);
          if (policies.generation !== generation) {
            generation = policies.generation;
            continue;
          }
          entry = cachedDecision(decide(policies, request));
          await cache.set(key, entry, DECISION_TTL_SECONDS);
        }
        const outcome = await log.record({ generation, row: decisionRow(normalized, generation, entry.columns, cached) });
        advanceTo(outcome.generation);
        if (outcome.recorded) return `${entry.answerHead},"decision_id":${outcome.id},"policy_generation":${generation},"cached":${cached}}`;
        generation = outcome.generation;
      }
      throw new DependencyUnavailableError("policies", `the policies changed during each of ${MAX_ATTEMPTS} attempts to decide`, 1);
    },
  };
}
