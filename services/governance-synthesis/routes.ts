// governance-synthesis's route: a principle and its context become a draft policy, returned only
// together with constitutional-ai's verdict on proposing it and formal-verification's report on
// its rules. Either peer down: 503 with Retry-After (the kit's answer), never a draft without both.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { requestHeader } from "../kit/request-header";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import { createServiceClient, type ServiceResponse } from "../kit/service-client";
import type { ServiceContext } from "../kit/service-context";
import { allowsEverything, draftPolicy, SynthesisError, synthesisContextSchema, type DraftPolicy, type SynthesisContext } from "./draft-policy";

const synthesizeSchema = z.strictObject({
  principle: z.string().trim().min(1).max(2000),
  context: synthesisContextSchema.default({}),
  /** The agent the draft is proposed for; constitutional-ai judges it as this agent's action. */
  agent_id: z.string().min(1).max(128).default("governance-synthesis"),
});

interface Verdict {
  readonly compliant: boolean;
}

interface Report {
  readonly valid: boolean;
}

/** What constitutional-ai judges: proposing this policy, as an action of the agent. */
function proposal(draft: DraftPolicy, context: SynthesisContext, agentId: string) {
  return {
    agent_id: agentId,
    action: {
      type: "create_policy",
      target: `policy:${draft.name}`,
      parameters: {
        template: draft.template,
        rule_count: draft.rules.length,
        effects: [...new Set(draft.rules.map((r) => r.effect))],
        ...(allowsEverything(draft) ? { privilege: "*" } : {}),
      },
      risk_level: context.risk_level ?? "medium",
      ...(context.approved_by ? { approved_by: context.approved_by } : {}),
      description: draft.description,
    },
    ...(context.scope ? { context: { scope: context.scope } } : {}),
  };
}

export function governanceSynthesisRoutes(app: ServiceApp, context: ServiceContext): void {
  const constitution = createServiceClient(context.config, "constitutional-ai");
  const verifier = createServiceClient(context.config, "formal-verification");

  app.post("/api/v1/synthesize", requireLevel(ROLE_LEVELS.worker), jsonBody(synthesizeSchema), async (c) => {
    const { principle, context: where, agent_id } = c.req.valid("json");
    let draft: DraftPolicy;
    try {
      draft = draftPolicy(principle, where);
    } catch (error) {
      if (!(error instanceof SynthesisError)) throw error;
      return c.json({ error: "no policy can be drafted", fields: [{ path: error.field, message: error.message }] }, 422);
    }
    // The caller's token goes along: the peers check it as they would for the caller.
    const call = { requestId: c.get("requestId"), authorization: requestHeader(c, "authorization") };
    const [validation, verification] = await Promise.all([
      constitution.call<Verdict>("/api/v1/validate", { ...call, body: proposal(draft, where, agent_id) }),
      verifier.call<Report>("/api/v1/verify", { ...call, body: { rules: draft.rules } }),
    ]);
    const refused = ([["constitutional-ai", validation], ["formal-verification", verification]] as const).find(([, r]) => r.status !== 200);
    if (refused) {
      const [dependency, response] = refused as [string, ServiceResponse];
      context.logger.warn("dependency refused a synthesized draft", { dependency, status: response.status, requestId: c.get("requestId") });
      return c.json({ error: "dependency refused the request", dependency, status: response.status, body: response.body }, 502);
    }
    return c.json({
      draft,
      validation: validation.body,
      verification: verification.body,
      approved: validation.body.compliant === true && verification.body.valid === true,
    });
  });
}
