// The enforcement decision over the active policies: inside a policy the first applicable rule
// speaks (as formal-verification assumes); across policies deny overrides allow; when no policy
// speaks the answer is deny, and says it is the default.
import { firstApplicableRule, type AccessRequest } from "../policy-model/evaluate-rules";
import { compileRules, type CompiledRule } from "../policy-model/policy-rule";
import type { ActivePolicies } from "./store";

export interface Decision {
  readonly decision: "allow" | "deny";
  /** The deciding policy; null for the default deny. */
  readonly policy: { readonly id: string; readonly name: string; readonly version: number } | null;
  readonly rule_id: string | null;
  readonly reason: string;
  /** True when no active policy matched and the default (deny) applied. */
  readonly default: boolean;
}

export interface CompiledPolicies {
  readonly generation: number;
  readonly policies: readonly { id: string; name: string; version: number; rules: CompiledRule[] }[];
}

export function compilePolicies(active: ActivePolicies): CompiledPolicies {
  return { generation: active.generation, policies: active.policies.map((p) => ({ ...p, rules: compileRules(p.rules) })) };
}

export function decide(compiled: CompiledPolicies, request: AccessRequest): Decision {
  let allow: Decision | undefined;
  for (const policy of compiled.policies) {
    const rule = firstApplicableRule(policy.rules, request);
    if (!rule) continue;
    const by = { id: policy.id, name: policy.name, version: policy.version };
    if (rule.rule.effect === "deny") {
      return { decision: "deny", policy: by, rule_id: rule.rule.id, reason: `denied by rule "${rule.rule.id}" of policy "${policy.name}" (deny overrides)`, default: false };
    }
    allow ??= { decision: "allow", policy: by, rule_id: rule.rule.id, reason: `allowed by rule "${rule.rule.id}" of policy "${policy.name}"`, default: false };
  }
  return allow ?? { decision: "deny", policy: null, rule_id: null, reason: "no active policy matched the request: denied by default", default: true };
}
