// The recorded decisions grouped for scoring: decisions matching the same parameters with the same
// outcome score alike, so each group is evaluated once and counted n times. Grouping reads every
// decision against every parameter, so it is kept per parameter names for the latest set of each
// lineage (see DecisionSet), and a longer set of the same lineage only groups its new decisions.
import type { RecordedDecision } from "./decision-fitness";
import type { DecisionSet } from "./decision-source";

export interface Group {
  /** Indexes of the parameters the group's decisions match. */
  readonly matches: readonly number[];
  readonly deny: boolean;
  readonly count: number;
}

export interface DecisionGroups {
  readonly groups: readonly Group[];
  readonly denials: number;
  readonly total: number;
}

interface Grouped extends DecisionGroups {
  /** The same groups by key, to extend from. */
  readonly byKey: ReadonlyMap<string, Group>;
}

// Parameter-name lists kept per lineage: requests mostly repeat a few searches.
const KEPT_PER_LINEAGE = 32;
const kept = new WeakMap<object, Map<string, Grouped>>();

/** The decisions of `set` grouped by which of `names` they match (a name without ":" matches none). */
export function decisionGroups(names: readonly string[], set: DecisionSet): DecisionGroups {
  const key = names.join("\n"); // names hold no newline (the route's PARAMETER_NAME)
  let lineage = kept.get(set.lineage);
  if (lineage === undefined) kept.set(set.lineage, (lineage = new Map()));
  const known = lineage.get(key);
  if (known !== undefined && known.total === set.decisions.length) {
    lineage.delete(key); // most recently used last
    lineage.set(key, known);
    return known;
  }
  // An older set than the one kept (a job started before): grouped afresh, not kept.
  if (known !== undefined && known.total > set.decisions.length) return group(names, set.decisions, undefined, 0);
  const grouped = group(names, set.decisions, known, known?.total ?? 0);
  lineage.delete(key);
  lineage.set(key, grouped);
  if (lineage.size > KEPT_PER_LINEAGE) lineage.delete(lineage.keys().next().value!);
  return grouped;
}

/** Groups decisions[from..] onto a copy of `base` (groups already handed out never change). */
function group(names: readonly string[], decisions: readonly RecordedDecision[], base: Grouped | undefined, from: number): Grouped {
  const matchers = names.map(matcher);
  const byKey = new Map<string, { matches: number[]; deny: boolean; count: number }>();
  for (const [k, g] of base?.byKey ?? []) byKey.set(k, { matches: g.matches as number[], deny: g.deny, count: g.count });
  let denials = base?.denials ?? 0;
  for (let d = from; d < decisions.length; d++) {
    const decision = decisions[d];
    const matches: number[] = [];
    for (let i = 0; i < matchers.length; i++) if (matchers[i](decision)) matches.push(i);
    const deny = decision.decision === "deny";
    if (deny) denials++;
    const k = `${deny ? "d" : "a"}${matches.join(",")}`;
    const existing = byKey.get(k);
    if (existing) existing.count++;
    else byKey.set(k, { matches, deny, count: 1 });
  }
  return { groups: [...byKey.values()], byKey, denials, total: decisions.length };
}

function matcher(name: string): (d: RecordedDecision) => boolean {
  const colon = name.indexOf(":");
  if (colon < 0) return () => false; // "threshold": not a score term
  const field = name.slice(0, colon) as "subject" | "action" | "resource";
  const pattern = name.slice(colon + 1);
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (d) => d[field].startsWith(prefix);
  }
  return (d) => d[field] === pattern;
}
