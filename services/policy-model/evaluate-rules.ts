// Which rule of one policy applies to a request: the first matching one in evaluation order
// (first-applicable), the same order formal verification reasons about.
import { fieldSetMatches } from "./field-pattern";
import { RULE_FIELDS, type CompiledRule } from "./policy-rule";

export interface AccessRequest {
  readonly subject: string;
  readonly action: string;
  readonly resource: string;
}

export function firstApplicableRule(rules: readonly CompiledRule[], request: AccessRequest): CompiledRule | undefined {
  return rules.find((r) => RULE_FIELDS.every((field) => fieldSetMatches(r.sets[field], request[field])));
}
