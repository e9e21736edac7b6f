// The shape of a Prometheus rule file, as plain data.

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration; absent means the alert fires on the first evaluation that matches. */
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>> & { readonly severity: Severity };
  readonly annotations: Readonly<{ summary: string; description: string }>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

/** "none" is the dead-man's switch: never a page, routed by its name. */
export type Severity = "critical" | "warning" | "info" | "none";

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return "alert" in rule;
}
