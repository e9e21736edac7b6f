// The rule shape shared by formal-verification, governance-synthesis and policy-governance: an
// effect for the requests whose subject, action and resource match its conditions. A condition is
// a pattern ("agent:build-*"), a list of patterns (any of them), or {any_of, none_of}; absent
// means anything. Rules are evaluated by priority, higher first, ties in list order.
import { z } from "zod";
import { withFastPath } from "./fast-path-schema";
import { ANYTHING, fieldSetOf, parsePattern, type FieldSet } from "./field-pattern";
import { parseRulesFast } from "./parse-rules-fast";

export const RULE_FIELDS = ["subject", "action", "resource"] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

const pattern = z
  .string()
  .min(1, "must not be empty")
  .max(256, "must be at most 256 characters")
  .refine((p) => !p.slice(0, -1).includes("*"), 'may contain "*" only as its last character (a prefix)');

const fieldCondition = z.union(
  [
    pattern,
    z.array(pattern).min(1, "must list at least one pattern"),
    z.strictObject({
      // An empty any_of is allowed on purpose: it can never hold, which verification reports.
      any_of: z.array(pattern).max(100).optional(),
      none_of: z.array(pattern).max(100).optional(),
    }),
  ],
  { error: 'must be a pattern, a list of patterns, or {"any_of": [...], "none_of": [...]}' },
);

export type FieldCondition = z.input<typeof fieldCondition>;

export const policyRuleSchema = z.strictObject({
  id: z
    .string()
    .min(1, "must not be empty")
    .max(128, "must be at most 128 characters")
    .regex(/^[\w.:-]+$/, "may contain letters, digits, '_', '.', ':' and '-' only"),
  effect: z.enum(["allow", "deny"], { error: 'must be "allow" or "deny"' }),
  priority: z.number().int("must be an integer").min(-1_000_000).max(1_000_000).default(0),
  description: z.string().max(1000).optional(),
  subject: fieldCondition.optional(),
  action: fieldCondition.optional(),
  resource: fieldCondition.optional(),
});

export type PolicyRule = z.output<typeof policyRuleSchema>;
export type PolicyRuleInput = z.input<typeof policyRuleSchema>;

/** A list of rules whose ids are unique; the error names the index of the repeated one. */
export const policyRuleListSchema = z
  .array(policyRuleSchema)
  .max(1000, "must hold at most 1000 rules")
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate rule id "${rule.id}"` });
      seen.add(rule.id);
    });
  });

/** policyRuleListSchema, with the common valid list parsed by hand first (parse-rules-fast.ts). */
export const policyRulesSchema = withFastPath(policyRuleListSchema, parseRulesFast);

/** A rule with its conditions parsed into sets, and its position among the rules given. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  readonly index: number;
  readonly sets: Readonly<Record<RuleField, FieldSet>>;
}

export function fieldSet(condition: FieldCondition | undefined): FieldSet {
  if (condition === undefined) return ANYTHING;
  if (typeof condition === "string") return fieldSetOf([parsePattern(condition)], []);
  if (Array.isArray(condition)) return fieldSetOf(condition.map(parsePattern), []);
  return fieldSetOf(condition.any_of?.map(parsePattern) ?? null, (condition.none_of ?? []).map(parsePattern));
}

/** The rules in evaluation order: priority descending, then as listed. */
export function compileRules(rules: readonly PolicyRule[]): CompiledRule[] {
  return rules
    .map((rule, index) => ({
      rule,
      index,
      sets: { subject: fieldSet(rule.subject), action: fieldSet(rule.action), resource: fieldSet(rule.resource) },
    }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index);
}
