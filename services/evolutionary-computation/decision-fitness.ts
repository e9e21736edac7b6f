// How well a candidate set of policy parameters reproduces the recorded enforcement decisions.
//
// The tuned policy is a weighted score: a parameter named "<field>:<pattern>" (field subject,
// action or resource; a pattern ending in "*" matches by prefix, "*" alone matches everything)
// adds its value to the score of each decision it matches, and the policy denies when the score
// exceeds the parameter "threshold" (0.5 when it is not tuned). Fitness is the share of recorded
// decisions the policy reproduces ("accuracy"), or the mean of its rates on denials and on
// allowances ("balanced_accuracy", fairer when one outcome is rare). The decisions are scored by
// group (decision-groups.ts): those matching the same parameters with the same outcome score alike.
import { decisionGroups } from "./decision-groups";
import type { DecisionSet } from "./decision-source";

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

export type Fitness = (values: readonly number[]) => number;

export function decisionFitness(parameters: readonly ParameterRange[], decisions: DecisionSet, objective: Objective): Fitness {
  const threshold = parameters.findIndex((p) => p.name === THRESHOLD);
  const { groups, denials, total } = decisionGroups(parameters.map((p) => p.name), decisions);
  const allowances = total - denials;

  return (values) => {
    const limit = threshold < 0 ? DEFAULT_THRESHOLD : values[threshold];
    let deniedRight = 0;
    let allowedRight = 0;
    for (const group of groups) {
      let score = 0;
      for (const i of group.matches) score += values[i];
      const denies = score > limit;
      if (denies && group.deny) deniedRight += group.count;
      else if (!denies && !group.deny) allowedRight += group.count;
    }
    if (objective === "accuracy" || denials === 0 || allowances === 0) return (deniedRight + allowedRight) / total;
    return (deniedRight / denials + allowedRight / allowances) / 2;
  };
}
