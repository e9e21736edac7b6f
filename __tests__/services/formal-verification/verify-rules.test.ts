// The analysis itself: the set algebra of patterns, and contradictions, shadowed and unreachable
// rules under first-applicable evaluation.
import { isSatisfiable, isSubset } from "../../../services/policy-model/field-pattern";
import { fieldSet, type PolicyRule, type PolicyRuleInput, policyRuleSchema } from "../../../services/policy-model/policy-rule";
import { verifyRules } from "../../../services/formal-verification/verify-rules";

const rules = (...inputs: PolicyRuleInput[]): PolicyRule[] => inputs.map((r) => policyRuleSchema.parse(r));

describe("pattern sets", () => {
  const set = fieldSet;
  it("decides containment of exact values, prefixes and exclusions", () => {
    expect(isSubset(set("repo:acme/api"), set("repo:acme/*"))).toBe(true);
    expect(isSubset(set("repo:acme/*"), set("repo:acme/api"))).toBe(false);
    expect(isSubset(set("repo:acme/*"), set("repo:*"))).toBe(true);
    expect(isSubset(set("repo:*"), set("repo:acme/*"))).toBe(false);
    expect(isSubset(set(undefined), set("*"))).toBe(true);
    expect(isSubset(set(["a", "b"]), set(["b", "a", "c"]))).toBe(true);
    expect(isSubset(set(["a", "d"]), set(["b", "a", "c"]))).toBe(false);
    // Outer excludes something inner can reach: not contained.
    expect(isSubset(set("repo:*"), set({ any_of: ["repo:*"], none_of: ["repo:secret/*"] }))).toBe(false);
    // ...unless inner excludes it too.
    expect(isSubset(set({ any_of: ["repo:*"], none_of: ["repo:secret/*"] }), set({ none_of: ["repo:secret/*"] }))).toBe(true);
    expect(isSubset(set({ any_of: ["repo:*"], none_of: ["repo:secret/*"] }), set({ none_of: ["repo:secret/x"] }))).toBe(true);
    expect(isSubset(set({ any_of: ["repo:*"], none_of: ["repo:sec*"] }), set({ none_of: ["repo:secret/*"] }))).toBe(true);
    expect(isSubset(set({ any_of: ["repo:*"], none_of: ["repo:secret/a*"] }), set({ none_of: ["repo:secret/*"] }))).toBe(false);
  });

  it("decides emptiness", () => {
    expect(isSatisfiable(set({ any_of: [] }))).toBe(false);
    expect(isSatisfiable(set({ any_of: ["deploy"], none_of: ["deploy"] }))).toBe(false);
    expect(isSatisfiable(set({ any_of: ["deploy:*"], none_of: ["deploy:prod"] }))).toBe(true);
    expect(isSatisfiable(set({ any_of: ["deploy:prod/*"], none_of: ["deploy:*"] }))).toBe(false);
  });
});

describe("verifyRules", () => {
  it("finds nothing wrong in a consistent set and gives the evaluation order", () => {
    const report = verifyRules(
      rules(
        { id: "allow-read", effect: "allow", action: "read", resource: "repo:*" },
        { id: "deny-prod-delete", effect: "deny", priority: 10, action: "delete", resource: "db:prod/*" },
        { id: "allow-delete-dev", effect: "allow", action: "delete", resource: "db:dev/*" },
      ),
    );
    expect(report).toEqual({
      valid: true,
      rule_count: 3,
      evaluation_order: ["deny-prod-delete", "allow-read", "allow-delete-dev"],
      contradictions: [],
      shadowed: [],
      unreachable: [],
    });
  });

  it("reports two rules with the same condition and opposite effects as a contradiction, however the condition is written", () => {
    const report = verifyRules(
      rules(
        { id: "a", effect: "allow", subject: ["agent:x", "agent:y"], action: "deploy" },
        { id: "b", effect: "deny", subject: { any_of: ["agent:y", "agent:x"] }, action: ["deploy"], resource: "*" },
        { id: "c", effect: "deny", subject: "agent:x", action: "deploy" },
      ),
    );
    expect(report.valid).toBe(false);
    expect(report.contradictions).toEqual([{ rule_ids: ["a", "b"], reason: expect.stringContaining("same condition and opposite effects") }]);
    // b is also fully covered by a (same set), and c by a: each list answers its own question.
    expect(report.shadowed.map((s) => [s.rule_id, s.shadowed_by, s.kind])).toEqual([
      ["b", "a", "overridden"],
      ["c", "a", "overridden"],
    ]);
  });

  it("reports a rule covered by an earlier or higher-priority rule as shadowed, redundant or overridden", () => {
    const report = verifyRules(
      rules(
        { id: "specific", effect: "allow", subject: "agent:ci", action: "push", resource: "repo:acme/api" },
        { id: "broad", effect: "deny", priority: 5, action: "push", resource: "repo:acme/*" },
        { id: "narrow-deny", effect: "deny", action: "push", resource: "repo:acme/web" },
      ),
    );
    expect(report.evaluation_order).toEqual(["broad", "specific", "narrow-deny"]);
    expect(report.shadowed).toEqual([
      expect.objectContaining({ rule_id: "specific", shadowed_by: "broad", kind: "overridden", rule_ids: ["broad", "specific"] }),
      expect.objectContaining({ rule_id: "narrow-deny", shadowed_by: "broad", kind: "redundant", rule_ids: ["broad", "narrow-deny"] }),
    ]);
    expect(report.contradictions).toEqual([]);
    expect(report.unreachable).toEqual([]);
  });

  it("does not call a rule shadowed when an exclusion leaves part of it to itself", () => {
    const report = verifyRules(
      rules(
        { id: "deny-most", effect: "deny", action: "push", resource: { any_of: ["repo:*"], none_of: ["repo:sandbox/*"] } },
        { id: "allow-all-repos", effect: "allow", action: "push", resource: "repo:*" },
      ),
    );
    expect(report).toMatchObject({ valid: true, shadowed: [], unreachable: [] });
  });

  it("reports rules that can never apply: impossible conditions and rules after a catch-all", () => {
    const report = verifyRules(
      rules(
        { id: "impossible", effect: "allow", action: { any_of: ["deploy"], none_of: ["deploy"] } },
        { id: "nothing", effect: "deny", resource: { any_of: [] } },
        { id: "default-deny", effect: "deny", priority: -1 },
        { id: "too-late", effect: "allow", priority: -2, action: "read" },
      ),
    );
    expect(report.valid).toBe(false);
    expect(report.unreachable).toEqual([
      { rule_id: "impossible", rule_ids: ["impossible"], reason: expect.stringContaining("action condition can never hold") },
      { rule_id: "nothing", rule_ids: ["nothing"], reason: expect.stringContaining("resource condition can never hold") },
      { rule_id: "too-late", rule_ids: ["default-deny", "too-late"], reason: expect.stringContaining("matches every request") },
    ]);
    // An impossible rule hides nothing: "default-deny" is not reported as shadowed by it.
    expect(report.shadowed).toEqual([]);
  });
});
