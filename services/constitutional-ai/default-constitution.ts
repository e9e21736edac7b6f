// The constitution seeded as version 1 at first start. Each principle is judged only from the
// fields of the proposed action, so the same request always gets the same verdict.
import type { Condition } from "./condition";
import type { Principle } from "./constitution";

const DESTRUCTIVE_ACTION = "^(delete|drop|destroy|truncate|wipe|purge|terminate|force_push|reset_hard)(_|$)";
const OUTBOUND_ACTION = "^(send|upload|post|publish|export|email|http_request|transfer|share)(_|$)";
const SECRET_NAME = "(secret|password|passwd|token|api[_-]?key|private[_-]?key|credential|\\.env$|id_rsa|\\.pem$)";
const ESCALATION_ACTION = "^(grant_admin|escalate_privileges|sudo|disable_access_control)(_|$)";
const AUDIT_TAMPERING_ACTION = "^(disable_audit|delete_audit|clear_audit|tamper_audit)(_|$)";

const notApproved: Condition = { field: "action.approved_by", op: "missing" };

export const DEFAULT_PRINCIPLES: readonly Principle[] = [
  {
    id: "no-destructive-without-approval",
    title: "No destructive action without approval",
    description: "Deleting, dropping, truncating or force-pushing needs a named approver.",
    violated_when: { all: [{ field: "action.type", op: "matches", value: DESTRUCTIVE_ACTION }, notApproved] },
    reason: "a destructive action needs approved_by",
  },
  {
    id: "no-secret-exfiltration",
    title: "No secret exfiltration",
    description: "Secrets never leave the system: no outbound action may carry or target one.",
    violated_when: {
      all: [
        { field: "action.type", op: "matches", value: OUTBOUND_ACTION },
        {
          any: [
            { field: "action.target", op: "matches", value: SECRET_NAME },
            { field: "action.parameters", op: "has_key_matching", value: SECRET_NAME },
          ],
        },
      ],
    },
    reason: "an outbound action targets or carries a secret",
  },
  {
    id: "human-oversight-for-high-risk",
    title: "Human oversight for high-risk actions",
    description: "A high or critical risk action needs approval by someone other than the acting agent.",
    violated_when: {
      all: [
        { field: "action.risk_level", op: "in", value: ["high", "critical"] },
        { any: [notApproved, { field: "action.approved_by", op: "eq", value_from: "agent_id" }] },
      ],
    },
    reason: "a high or critical risk action needs approved_by naming someone other than the agent",
  },
  {
    id: "least-privilege",
    title: "Least privilege",
    description: "Administrative, root or wildcard privileges are not taken without approval.",
    violated_when: {
      all: [
        {
          any: [
            { field: "action.type", op: "matches", value: ESCALATION_ACTION },
            { field: "action.parameters.privilege", op: "in", value: ["admin", "root", "superuser", "*"] },
            { field: "action.parameters.permissions", op: "contains", value: "*" },
          ],
        },
        notApproved,
      ],
    },
    reason: "the action asks for administrative, root or wildcard privileges without approval",
  },
  {
    id: "audit-every-decision",
    title: "Audit every decision",
    description: "No action may switch off, skip or erase the audit trail.",
    violated_when: {
      any: [
        { field: "action.type", op: "matches", value: AUDIT_TAMPERING_ACTION },
        { field: "action.parameters.audit", op: "eq", value: false },
        { field: "action.parameters.skip_audit", op: "eq", value: true },
      ],
    },
    reason: "the action would disable, skip or erase auditing",
  },
  {
    id: "respect-scope",
    title: "Respect scope",
    description: "When the context sets a scope, the action's target must lie inside it.",
    violated_when: {
      all: [
        { field: "context.scope", op: "exists" },
        { not: { field: "action.target", op: "starts_with", value_from: "context.scope" } },
      ],
    },
    reason: "the target lies outside context.scope",
  },
];
