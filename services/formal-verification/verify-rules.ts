// Static analysis of a rule list under first-applicable evaluation (priority descending, then list
// order): rules that contradict each other, rules an earlier rule hides, rules that can never apply.
import { isAnything, isEquivalent, isSatisfiable, isSubset } from "../policy-model/field-pattern";
import { RULE_FIELDS, compileRules, type CompiledRule, type PolicyRule } from "../policy-model/policy-rule";

export interface Contradiction {
  readonly rule_ids: [string, string];
  readonly reason: string;
}

export interface Shadowing {
  readonly rule_id: string;
  readonly shadowed_by: string;
  /** redundant: same effect, the rule changes nothing; overridden: opposite effect, it never takes effect. */
  readonly kind: "redundant" | "overridden";
  readonly rule_ids: [string, string];
  readonly reason: string;
}

export interface Unreachable {
  readonly rule_id: string;
  readonly rule_ids: string[];
  readonly reason: string;
}

export interface VerificationReport {
  readonly valid: boolean;
  readonly rule_count: number;
  /** The rule ids in the order they are evaluated. */
  readonly evaluation_order: string[];
  readonly contradictions: Contradiction[];
  readonly shadowed: Shadowing[];
  readonly unreachable: Unreachable[];
}

const describe = (r: CompiledRule) => `"${r.rule.id}" (${r.rule.effect}, priority ${r.rule.priority})`;

function covers(outer: CompiledRule, inner: CompiledRule): boolean {
  return RULE_FIELDS.every((f) => isSubset(inner.sets[f], outer.sets[f]));
}

function sameCondition(a: CompiledRule, b: CompiledRule): boolean {
  return RULE_FIELDS.every((f) => isEquivalent(a.sets[f], b.sets[f]));
}

export function verifyRules(rules: readonly PolicyRule[]): VerificationReport {
  const ordered = compileRules(rules);
  const contradictions: Contradiction[] = [];
  const shadowed: Shadowing[] = [];
  const unreachable: Unreachable[] = [];
  // Facts about each rule alone, computed once rather than once per pair.
  const emptyField = ordered.map((r) => RULE_FIELDS.find((f) => !isSatisfiable(r.sets[f])));
  const matchesAll = ordered.map((r) => RULE_FIELDS.every((f) => isAnything(r.sets[f])));
  let catchAll: CompiledRule | undefined;

  ordered.forEach((rule, i) => {
    const empty = emptyField[i];
    if (empty) {
      unreachable.push({
        rule_id: rule.rule.id,
        rule_ids: [rule.rule.id],
        reason: `its ${empty} condition can never hold (every value it includes is excluded)`,
      });
      return;
    }
    let shadow: CompiledRule | undefined;
    for (let j = 0; j < i; j++) {
      // An impossible rule hides nothing and contradicts nothing.
      if (emptyField[j]) continue;
      const other = ordered[j];
      if (other.rule.effect !== rule.rule.effect && sameCondition(other, rule)) {
        contradictions.push({
          rule_ids: [other.rule.id, rule.rule.id],
          reason: `${describe(other)} and ${describe(rule)} have the same condition and opposite effects`,
        });
      }
      if (shadow === undefined && !catchAll && covers(other, rule)) shadow = other;
    }
    if (catchAll) {
      unreachable.push({
        rule_id: rule.rule.id,
        rule_ids: [catchAll.rule.id, rule.rule.id],
        reason: `${describe(catchAll)} matches every request and is evaluated before it`,
      });
    } else if (shadow) {
      const kind = shadow.rule.effect === rule.rule.effect ? "redundant" : "overridden";
      shadowed.push({
        rule_id: rule.rule.id,
        shadowed_by: shadow.rule.id,
        kind,
        rule_ids: [shadow.rule.id, rule.rule.id],
        reason:
          `every request it matches is matched first by ${describe(shadow)}` +
          (kind === "redundant" ? ", with the same effect" : ", which decides the opposite"),
      });
    }
    if (matchesAll[i]) catchAll ??= rule;
  });

  return {
    valid: contradictions.length === 0 && shadowed.length === 0 && unreachable.length === 0,
    rule_count: rules.length,
    evaluation_order: ordered.map((r) => r.rule.id),
    contradictions,
    shadowed,
    unreachable,
  };
}
