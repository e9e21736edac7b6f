// The values a rule's subject, action or resource condition accepts: patterns that are either an
// exact string or a prefix ending in "*" ("*" alone is anything), minus excluded patterns. This
// small algebra is closed enough that emptiness and containment are exactly decidable, which is
// what formal verification needs.

export interface Pattern {
  /** The exact value, or the prefix when `exact` is false. */
  readonly text: string;
  readonly exact: boolean;
}

/** A set of strings: (any of `anyOf`, or anything when null) minus anything matching `noneOf`. */
export interface FieldSet {
  readonly anyOf: readonly Pattern[] | null;
  readonly noneOf: readonly Pattern[];
  /** The included patterns that some string still matches after the exclusions. */
  readonly live: readonly Pattern[];
}

const EVERY_STRING: readonly Pattern[] = [{ text: "", exact: false }];

// Computed when the set is made: verification asks about each set once per pair of rules.
export function fieldSetOf(anyOf: readonly Pattern[] | null, noneOf: readonly Pattern[]): FieldSet {
  return { anyOf, noneOf, live: (anyOf ?? EVERY_STRING).filter((p) => !coveredBy(p, noneOf)) };
}

export const ANYTHING: FieldSet = fieldSetOf(null, []);

export function parsePattern(text: string): Pattern {
  return text.endsWith("*") ? { text: text.slice(0, -1), exact: false } : { text, exact: true };
}

export function patternMatches(p: Pattern, value: string): boolean {
  return p.exact ? value === p.text : value.startsWith(p.text);
}

export function fieldSetMatches(set: FieldSet, value: string): boolean {
  if (set.anyOf !== null && !set.anyOf.some((p) => patternMatches(p, value))) return false;
  return !set.noneOf.some((p) => patternMatches(p, value));
}

/** The included patterns; "anything" is the prefix "". */
function includes(set: FieldSet): readonly Pattern[] {
  return set.anyOf ?? EVERY_STRING;
}

/** True when every string `p` matches also matches one of `patterns`. */
function coveredBy(p: Pattern, patterns: readonly Pattern[]): boolean {
  // A prefix set is infinite, so only a shorter-or-equal prefix covers it (exact values never do).
  return patterns.some((q) => (q.exact ? p.exact && q.text === p.text : p.text.startsWith(q.text)));
}

export function isSatisfiable(set: FieldSet): boolean {
  return set.live.length > 0;
}

/** True when some string matches both `p` and `q`, given that strings matching `excluded` do not count. */
function overlapsOutside(p: Pattern, q: Pattern, excluded: readonly Pattern[]): boolean {
  let meet: Pattern | undefined;
  if (p.exact && q.exact) meet = p.text === q.text ? p : undefined;
  else if (p.exact) meet = patternMatches(q, p.text) ? p : undefined;
  else if (q.exact) meet = patternMatches(p, q.text) ? q : undefined;
  else if (p.text.startsWith(q.text)) meet = p;
  else if (q.text.startsWith(p.text)) meet = q;
  return meet !== undefined && !coveredBy(meet, excluded);
}

/** True when every string `inner` accepts is accepted by `outer` too. */
export function isSubset(inner: FieldSet, outer: FieldSet): boolean {
  const outerIncludes = includes(outer);
  for (const p of inner.live) {
    // Each string of p (outside inner's exclusions) must be included by outer...
    if (!coveredBy(p, outerIncludes)) return false;
    // ...and excluded by none of outer's exclusions.
    if (outer.noneOf.some((e) => overlapsOutside(p, e, inner.noneOf))) return false;
  }
  return true;
}

export function isEquivalent(a: FieldSet, b: FieldSet): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

export function isAnything(set: FieldSet): boolean {
  return isSubset(ANYTHING, set);
}
