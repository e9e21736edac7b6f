// How well a candidate set of policy parameters reproduces the recorded enforcement decisions.
//
// The tuned policy is a weighted score: a parameter named "<field>:<pattern>" (field subject,
// action or resource; a pattern ending in "*" matches by prefix, "*" alone matches everything)
// adds its value to the score of each decision it matches, and the policy denies when the score
// exceeds the parameter "threshold" (0.5 when it is not tuned). Fitness is the share of recorded
// decisions the policy reproduces ("accuracy"), or the mean of its rates on denials and on
// allowances ("balanced_accuracy", fairer when one outcome is rare).

export type Objective = "accuracy" | "balanced_accuracy";

export interface ParameterRange {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

export interface RecordedDecision {
  readonly subject: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: "allow" | "deny";
}

export const THRESHOLD = "threshold";
export const DEFAULT_THRESHOLD = 0.5;
export const PARAMETER_NAME = /^(threshold|(subject|action|resource):.+)$/;

// Decisions matching the same parameters with the same outcome score alike: evaluated once, counted n times.
interface Group {
  readonly matches: readonly number[];
  readonly deny: boolean;
  readonly count: number;
}

export type Fitness = (values: readonly number[]) => number;

export function decisionFitness(parameters: readonly ParameterRange[], decisions: readonly RecordedDecision[], objective: Objective): Fitness {
  const threshold = parameters.findIndex((p) => p.name === THRESHOLD);
  const matchers = parameters.map((p, index) => ({ index, matches: p.name === THRESHOLD ? () => false : matcher(p.name) }));
  const groups = new Map<string, { matches: number[]; deny: boolean; count: number }>();
  for (const d of decisions) {
    const matches = matchers.filter((m) => m.matches(d)).map((m) => m.index);
    const key = `${d.decision}|${matches.join(",")}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { matches, deny: d.decision === "deny", count: 1 });
  }
  const all: readonly Group[] = [...groups.values()];
  const denials = decisions.filter((d) => d.decision === "deny").length;
  const allowances = decisions.length - denials;

  return (values) => {
    const limit = threshold < 0 ? DEFAULT_THRESHOLD : values[threshold];
    let deniedRight = 0;
    let allowedRight = 0;
    for (const group of all) {
      let score = 0;
      for (const i of group.matches) score += values[i];
      const denies = score > limit;
      if (denies && group.deny) deniedRight += group.count;
      else if (!denies && !group.deny) allowedRight += group.count;
    }
    if (objective === "accuracy" || denials === 0 || allowances === 0) return (deniedRight + allowedRight) / decisions.length;
    return (deniedRight / denials + allowedRight / allowances) / 2;
  };
}

function matcher(name: string): (d: RecordedDecision) => boolean {
  const colon = name.indexOf(":");
  const field = name.slice(0, colon) as "subject" | "action" | "resource";
  const pattern = name.slice(colon + 1);
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (d) => d[field].startsWith(prefix);
  }
  return (d) => d[field] === pattern;
}
