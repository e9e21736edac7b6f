// alertmanager.yml for one environment: receivers, routes by severity, grouping, inhibition.
// Secret URLs and keys are read from files (api_url_file, routing_key_file), so this file holds none.
import type { Environment, Receiver } from "../environments";
import { yamlDocument } from "./yaml-document";

export const DEAD_MANS_SWITCH_ALERT = "ACGS_DeadMansSwitch";
/** Labels every alert is grouped by; inhibition compares the last two. */
export const GROUP_BY = ["alertname", "service", "environment"] as const;
export const ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets";

/** Path inside the Alertmanager container of the file holding a receiver's secret. */
export function receiverSecretPath(variable: string): string {
  return `${ALERTMANAGER_SECRETS_DIR}/${variable}`;
}

function renderReceiver(receiver: Receiver): object {
  switch (receiver.kind) {
    case "none":
      return { name: receiver.name };
    case "webhook":
      return { name: receiver.name, webhook_configs: [{ url: receiver.url, send_resolved: true }] };
    case "chat":
      return {
        name: receiver.name,
        slack_configs: [
          {
            api_url_file: receiverSecretPath(receiver.secretVariable),
            channel: receiver.channel,
            send_resolved: true,
            title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})',
            text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
          },
        ],
      };
    case "pager":
      return {
        name: receiver.name,
        pagerduty_configs: [
          {
            routing_key_file: receiverSecretPath(receiver.secretVariable),
            // PagerDuty accepts only critical, error, warning and info (the dead-man's switch is "none").
            severity:
              '{{ if eq .CommonLabels.severity "critical" }}critical{{ else if eq .CommonLabels.severity "warning" }}warning{{ else }}info{{ end }}',
            description: "{{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }}): {{ .CommonAnnotations.summary }}",
            send_resolved: true,
          },
        ],
      };
  }
}

/**
 * How often the always-firing dead-man's switch is re-sent. A heartbeat receiver (webhook, pager)
 * alarms when it stops arriving, so every minute; in a chat channel that would be noise, so a
 * daily "still alive" message whose absence people notice.
 */
function deadMansSwitchRepeat(receiver: Receiver | undefined): string {
  return receiver?.kind === "chat" ? "24h" : "1m";
}

export function renderAlertmanagerConfig(env: Environment): object {
  const { alerting } = env;
  const deadMansSwitch = alerting.receivers.find((r) => r.name === alerting.deadMansSwitchReceiver);
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: alerting.defaultReceiver,
      group_by: [...GROUP_BY],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        // The dead-man's switch always fires; its receiver alarms when it stops arriving.
        {
          receiver: alerting.deadMansSwitchReceiver,
          matchers: [`alertname="${DEAD_MANS_SWITCH_ALERT}"`],
          group_by: ["alertname", "environment"],
          group_wait: "0s",
          group_interval: "1m",
          repeat_interval: deadMansSwitchRepeat(deadMansSwitch),
        },
        ...alerting.routes.map((r) => ({
          receiver: r.receiver,
          matchers: [`severity="${r.severity}"`],
          ...(r.severity === "critical" ? { group_wait: "10s", repeat_interval: "1h" } : {}),
        })),
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: GROUP_BY.slice(1),
      },
    ],
    receivers: alerting.receivers.map(renderReceiver),
  };
}

/** The sensitive Terraform variables the environment's receivers read, each with its file path. */
export function receiverSecrets(env: Environment): { variable: string; path: string }[] {
  const variables = new Set<string>();
  for (const r of env.alerting.receivers) {
    if (r.kind === "chat" || r.kind === "pager") variables.add(r.secretVariable);
  }
  return [...variables].sort().map((variable) => ({ variable, path: receiverSecretPath(variable) }));
}

export function alertmanagerYaml(env: Environment): string {
  return yamlDocument("monitoring/alertmanager-config.ts", renderAlertmanagerConfig(env));
}
