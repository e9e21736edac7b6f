// The Prometheus rule files of one environment, by file name (shipped as rules/<name> beside
// prometheus.yml, whose rule_files glob is relative to it).
import type { Environment } from "../environments";
import { renderAlertRules } from "./alert-rules";
import { renderRecordingRules } from "./recording-rules";
import type { RuleFile } from "./rule-types";
import { renderBurnRateAlerts, renderSloRecordingRules } from "./slo-rules";
import { yamlDocument } from "./yaml-document";

export const RULE_FILES_GLOB = "rules/*.yml";

export function renderRuleFiles(env: Environment): Record<string, RuleFile> {
  return {
    "acgs-recording.yml": { groups: [renderRecordingRules()] },
    "acgs-alerts.yml": { groups: [renderAlertRules(env)] },
    "acgs-slo.yml": { groups: [renderSloRecordingRules(env), renderBurnRateAlerts(env)] },
  };
}

export function ruleFilesYaml(env: Environment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(renderRuleFiles(env)).map(([name, file]) => [name, yamlDocument("monitoring/rule-files.ts", file)]),
  );
}
