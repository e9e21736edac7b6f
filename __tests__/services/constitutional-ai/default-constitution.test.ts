// The seeded principles judge actions deterministically from their fields; the condition language
// refuses what it cannot evaluate.
import { conditionSchema } from "../../../services/constitutional-ai/condition";
import { compileConstitution, contentHash, principlesSchema } from "../../../services/constitutional-ai/constitution";
import { DEFAULT_PRINCIPLES } from "../../../services/constitutional-ai/default-constitution";

const constitution = compileConstitution({ version: 1, content_hash: contentHash(DEFAULT_PRINCIPLES), principles: DEFAULT_PRINCIPLES });
const violated = (action: Record<string, unknown>, context?: Record<string, unknown>, agent_id = "agent-7") =>
  constitution.judge({ agent_id, action: { target: "repo:acme/api", ...action }, context }).map((v) => v.principle_id);

describe("the default constitution", () => {
  it("is valid by its own schema and hashes stably, whatever the key order", () => {
    expect(principlesSchema.safeParse(DEFAULT_PRINCIPLES).success).toBe(true);
    expect(contentHash(DEFAULT_PRINCIPLES)).toMatch(/^[0-9a-f]{64}$/);
    const reordered = DEFAULT_PRINCIPLES.map((p) => Object.fromEntries(Object.entries(p).reverse())) as unknown as typeof DEFAULT_PRINCIPLES;
    expect(contentHash(reordered)).toBe(contentHash(DEFAULT_PRINCIPLES));
    expect(contentHash(DEFAULT_PRINCIPLES.slice(1))).not.toBe(contentHash(DEFAULT_PRINCIPLES));
  });

  it("finds an ordinary action compliant", () => {
    expect(violated({ type: "read_file", risk_level: "low" })).toEqual([]);
    expect(violated({ type: "delete_branch", approved_by: "lead" })).toEqual([]);
  });

  it.each([
    ["a destructive action without approval", { type: "delete_database" }, ["no-destructive-without-approval"]],
    ["a destructive action approved by an empty string", { type: "drop", approved_by: "" }, ["no-destructive-without-approval"]],
    ["an upload of a secret file", { type: "upload", target: "s3://bucket/.env" }, ["no-secret-exfiltration"]],
    ["a request carrying a token", { type: "http_request", target: "https://x.example", parameters: { headers: { api_key: "k" } } }, ["no-secret-exfiltration"]],
    ["a high-risk action without approval", { type: "deploy", risk_level: "high" }, ["human-oversight-for-high-risk"]],
    ["a critical action the agent approved itself", { type: "deploy", risk_level: "critical", approved_by: "agent-7" }, ["human-oversight-for-high-risk"]],
    ["a wildcard permission", { type: "configure", parameters: { permissions: ["read", "*"] } }, ["least-privilege"]],
    ["root privilege", { type: "run", parameters: { privilege: "root" } }, ["least-privilege"]],
    ["skipping the audit", { type: "merge", parameters: { skip_audit: true } }, ["audit-every-decision"]],
    ["deleting the audit log", { type: "delete_audit_log", approved_by: "lead" }, ["audit-every-decision"]],
  ])("flags %s", (_what, action, expected) => {
    expect(violated(action)).toEqual(expected);
  });

  it("checks the target against the scope of the context", () => {
    expect(violated({ type: "write", target: "repo:acme/web/x" }, { scope: "repo:acme/api" })).toEqual(["respect-scope"]);
    expect(violated({ type: "write", target: "repo:acme/api/x" }, { scope: ["repo:other", "repo:acme/api"] })).toEqual([]);
    expect(violated({ type: "write", target: "repo:acme/web/x" })).toEqual([]);
  });

  it("reports every principle violated, in constitution order, with its title and reason", () => {
    const violations = constitution.judge({ agent_id: "a", action: { type: "delete_all", target: "x", risk_level: "high", parameters: { audit: false } } });
    expect(violations).toEqual([
      { principle_id: "no-destructive-without-approval", title: "No destructive action without approval", reason: "a destructive action needs approved_by" },
      { principle_id: "human-oversight-for-high-risk", title: "Human oversight for high-risk actions", reason: expect.any(String) },
      { principle_id: "audit-every-decision", title: "Audit every decision", reason: expect.any(String) },
    ]);
  });
});

describe("the condition language", () => {
  it.each([
    ["an unknown op", { field: "action.type", op: "like", value: "x" }],
    ["a bad field path", { field: "action..type", op: "exists" }],
    ["an invalid regular expression", { field: "action.type", op: "matches", value: "(" }],
    ["eq with both value and value_from", { field: "a", op: "eq", value: 1, value_from: "b" }],
    ["an empty all", { all: [] }],
  ])("refuses %s", (_what, condition) => {
    expect(conditionSchema.safeParse(condition).success).toBe(false);
  });
});
