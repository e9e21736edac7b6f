// Enforcement semantics: first applicable rule inside a policy, deny overrides across policies,
// default deny when nothing matches.
import { compilePolicies, decide } from "../../../services/policy-governance/decide";
import { policyRuleSchema, type PolicyRuleInput } from "../../../services/policy-model/policy-rule";

const policy = (id: string, ...rules: PolicyRuleInput[]) => ({ id, name: `${id}-name`, version: 1, rules: rules.map((r) => policyRuleSchema.parse(r)) });

describe("decide", () => {
  const compiled = compilePolicies({
    generation: 7,
    policies: [
      policy("repos", { id: "allow-read", effect: "allow", action: "read", resource: "repo:*" }, { id: "allow-push-ci", effect: "allow", subject: "agent:ci", action: "push" }),
      policy(
        "prod",
        { id: "allow-release", effect: "allow", priority: 10, subject: "agent:release", action: "deploy", resource: "env:prod" },
        { id: "deny-prod", effect: "deny", action: "*", resource: "env:prod*" },
      ),
      policy("secrets", { id: "deny-secrets", effect: "deny", resource: { any_of: ["repo:secrets*"], none_of: ["repo:secrets-public"] } }),
    ],
  });

  it("allows by the first allowing policy and names it and its rule", () => {
    expect(decide(compiled, { subject: "agent:a", action: "read", resource: "repo:web" })).toEqual({
      decision: "allow",
      policy: { id: "repos", name: "repos-name", version: 1 },
      rule_id: "allow-read",
      reason: 'allowed by rule "allow-read" of policy "repos-name"',
      default: false,
    });
  });

  it("lets a deny of any policy override an allow of another", () => {
    const d = decide(compiled, { subject: "agent:a", action: "read", resource: "repo:secrets" });
    expect(d).toMatchObject({ decision: "deny", policy: { id: "secrets" }, rule_id: "deny-secrets", default: false });
    expect(d.reason).toContain("deny overrides");
    expect(decide(compiled, { subject: "agent:a", action: "read", resource: "repo:secrets-public" })).toMatchObject({ decision: "allow", rule_id: "allow-read" });
  });

  it("takes the first applicable rule inside a policy, by priority", () => {
    expect(decide(compiled, { subject: "agent:release", action: "deploy", resource: "env:prod" })).toMatchObject({ decision: "allow", rule_id: "allow-release" });
    expect(decide(compiled, { subject: "agent:other", action: "deploy", resource: "env:prod" })).toMatchObject({ decision: "deny", rule_id: "deny-prod" });
  });

  it("denies by default when no policy matches, and says so", () => {
    expect(decide(compiled, { subject: "agent:a", action: "push", resource: "repo:web" })).toEqual({
      decision: "deny",
      policy: null,
      rule_id: null,
      reason: "no active policy matched the request: denied by default",
      default: true,
    });
    expect(decide(compilePolicies({ generation: 1, policies: [] }), { subject: "s", action: "a", resource: "r" })).toMatchObject({ default: true });
  });
});
