// A hand-written parser for rule lists, mirroring policyRuleListSchema at about a tenth of zod's
// cost. It only ever says yes: on anything it is not sure of it returns undefined and the zod
// schema decides, so every refusal and its message stay zod's own. Its output is zod's to the
// key order (tested against it on generated lists).
import type { FieldCondition, PolicyRule } from "./policy-rule";

const ID = /^[\w.:-]+$/;
const RULE_KEYS = new Set(["id", "effect", "priority", "description", "subject", "action", "resource"]);
const MAX_RULES = 1000;
const MAX_PATTERNS = 100;
const PRIORITY_LIMIT = 1_000_000;
/** Returned by the parts for input they leave to zod. */
const UNSURE = Symbol("unsure");

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isPattern(value: unknown): value is string {
  if (typeof value !== "string" || value.length < 1 || value.length > 256) return false;
  const star = value.indexOf("*");
  return star === -1 || star === value.length - 1;
}

function patterns(value: unknown, min: number, max: number): string[] | typeof UNSURE {
  if (!Array.isArray(value) || value.length < min || value.length > max) return UNSURE;
  for (const p of value) if (!isPattern(p)) return UNSURE;
  return value.slice();
}

function condition(value: unknown): FieldCondition | typeof UNSURE {
  if (typeof value === "string") return isPattern(value) ? value : UNSURE;
  if (Array.isArray(value)) return patterns(value, 1, Infinity);
  if (!isPlainObject(value)) return UNSURE;
  const parsed: { any_of?: string[]; none_of?: string[] } = {};
  let keys = 0;
  if ("any_of" in value) {
    const anyOf = patterns(value.any_of, 0, MAX_PATTERNS);
    if (anyOf === UNSURE) return UNSURE;
    parsed.any_of = anyOf;
    keys++;
  }
  if ("none_of" in value) {
    const noneOf = patterns(value.none_of, 0, MAX_PATTERNS);
    if (noneOf === UNSURE) return UNSURE;
    parsed.none_of = noneOf;
    keys++;
  }
  return Object.keys(value).length === keys ? parsed : UNSURE;
}

function rule(value: unknown): PolicyRule | typeof UNSURE {
  if (!isPlainObject(value)) return UNSURE;
  for (const key of Object.keys(value)) if (!RULE_KEYS.has(key) || value[key] === undefined) return UNSURE;
  const { id, effect, priority = 0, description, subject, action, resource } = value;
  if (typeof id !== "string" || id.length < 1 || id.length > 128 || !ID.test(id)) return UNSURE;
  if (effect !== "allow" && effect !== "deny") return UNSURE;
  if (typeof priority !== "number" || !Number.isInteger(priority) || priority < -PRIORITY_LIMIT || priority > PRIORITY_LIMIT) return UNSURE;
  // Keys in the schema's order, present only when given (as zod builds its output).
  const parsed: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { id, effect, priority };
  if (description !== undefined) {
    if (typeof description !== "string" || description.length > 1000) return UNSURE;
    parsed.description = description;
  }
  if (subject !== undefined) {
    const set = condition(subject);
    if (set === UNSURE) return UNSURE;
    parsed.subject = set;
  }
  if (action !== undefined) {
    const set = condition(action);
    if (set === UNSURE) return UNSURE;
    parsed.action = set;
  }
  if (resource !== undefined) {
    const set = condition(resource);
    if (set === UNSURE) return UNSURE;
    parsed.resource = set;
  }
  return parsed;
}

/** The parsed rules when `value` is certainly a valid rule list, else undefined (ask zod). */
export function parseRulesFast(value: unknown): PolicyRule[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_RULES) return undefined;
  const parsed: PolicyRule[] = [];
  const ids = new Set<string>();
  for (const item of value) {
    const r = rule(item);
    if (r === UNSURE || ids.has(r.id)) return undefined;
    ids.add(r.id);
    parsed.push(r);
  }
  return parsed;
}
