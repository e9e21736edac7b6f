// policy-governance's routes: policies with versions and activation, the enforcement point, and
// the decision log that evolutionary-computation pages through.
import type { Context } from "hono";
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp, ServiceEnv } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { tieredCache } from "../decision-cache/tiered-cache";
import { policyRulesSchema } from "../policy-model/policy-rule";
import { cachedDecisionCodec } from "./cached-decision";
import { createEnforcer } from "./enforcer";
import { createPolicyStore, type Mutation } from "./store";

// A fresh object per answer: the HTTP layer may add to the headers object it is given
// (Content-Length, the contract's headers), so a shared one would carry them into the next answer.
const jsonHeaders = () => ({ "Content-Type": "application/json" });

const rules = policyRulesSchema.refine((r) => r.length > 0, "a policy needs at least one rule");
const description = z.string().max(2000).default("");

const createPolicySchema = z.strictObject({
  name: z.string().trim().min(1).max(128),
  description,
  rules,
  activate: z.boolean().default(false),
});

const newVersionSchema = z.strictObject({
  description,
  rules,
  activate: z.boolean().default(false),
  /** Optimistic concurrency: refused with 409 unless this is still the latest version. */
  expected_version: z.number().int().positive().optional(),
});

// PostgreSQL text cannot hold NUL: refused here, it would fail the whole batch of the decision log.
const accessField = z
  .string()
  .min(1)
  .max(1024)
  .refine((value) => !value.includes("\0"), "must not contain NUL (\\u0000)");
const enforceSchema = z.strictObject({ subject: accessField, action: accessField, resource: accessField });

const positiveInteger = (max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, "must be a non-negative integer")
    .transform(Number)
    .refine((n) => n <= max, `must be at most ${max}`);

const decisionsQuery = z.object({
  since: positiveInteger(Number.MAX_SAFE_INTEGER).default(0),
  limit: positiveInteger(1000)
    .refine((n) => n >= 1, "must be at least 1")
    .default(100),
});

const activateQuery = z.object({ version: positiveInteger(2_147_483_647).optional() });

const policiesQuery = z.object({ active: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).optional() });

function answer(c: Context, result: Mutation, okStatus: 200 | 201, id?: string): Response {
  switch (result.status) {
    case "ok":
      return c.json({ ...result.policy, policy_generation: result.generation }, okStatus);
    case "not_found":
      return c.json({ error: "policy not found", id }, 404);
    case "name_taken":
      return c.json({ error: "a policy with this name exists", fields: [{ path: "name", message: "is taken" }] }, 409);
    case "version_conflict":
      return c.json({ error: "the policy changed meanwhile", fields: [{ path: "expected_version", message: `latest version is ${result.latest_version}` }], latest_version: result.latest_version }, 409);
    case "no_such_version":
      return c.json({ error: "no such version", fields: [{ path: "version", message: `must be between 1 and ${result.latest_version}` }] }, 400);
  }
}

export function policyGovernanceRoutes(app: ServiceApp, context: ServiceContext): void {
  const store = createPolicyStore(context.database!);
  store.ready().catch((error: Error) => context.logger.warn("policy store not ready yet", { error: error.message }));
  const enforcer = createEnforcer(store, tieredCache(context.cache, context.metrics, cachedDecisionCodec));
  const specialist = requireLevel(ROLE_LEVELS.specialist);
  const changed = (result: Mutation) => {
    if (result.status === "ok") enforcer.advanceTo(result.generation);
    return result;
  };
  // The verified caller where auth is required; nobody in particular in dev.
  const author = (c: Context<ServiceEnv>) => c.get("principal")?.sub ?? null;

  // The enforcer answers JSON text (an EnforcedDecision): a cached decision is never re-serialized.
  app.post("/api/v1/enforce", requireLevel(ROLE_LEVELS.worker), jsonBody(enforceSchema), async (c) =>
    c.body(await enforcer.enforce(c.req.valid("json")), 200, jsonHeaders()),
  );

  app.get("/api/v1/decisions", queryParams(decisionsQuery), async (c) => {
    const { since, limit } = c.req.valid("query");
    const page = await store.decisions(since, limit + 1);
    const decisions = page.slice(0, limit);
    return c.json({ decisions, next_since: decisions.at(-1)?.id ?? since, has_more: page.length > limit });
  });

  app.post("/api/v1/policies", specialist, jsonBody(createPolicySchema), async (c) => {
    const { name, ...first } = c.req.valid("json");
    return answer(c, changed(await store.create(name, { ...first, createdBy: author(c) })), 201);
  });

  app.get("/api/v1/policies", queryParams(policiesQuery), async (c) => {
    const { active } = c.req.valid("query");
    return c.json({ policies: await store.list(active === undefined ? undefined : active === "true") });
  });

  app.get("/api/v1/policies/:id", async (c) => {
    const policy = await store.get(c.req.param("id"));
    return policy ? c.json(policy) : c.json({ error: "policy not found", id: c.req.param("id") }, 404);
  });

  app.put("/api/v1/policies/:id", specialist, jsonBody(newVersionSchema), async (c) => {
    const { expected_version, ...next } = c.req.valid("json");
    const id = c.req.param("id");
    return answer(c, changed(await store.addVersion(id, { ...next, createdBy: author(c) }, expected_version)), 200, id);
  });

  app.post("/api/v1/policies/:id/activate", specialist, queryParams(activateQuery), async (c) => {
    const id = c.req.param("id");
    return answer(c, changed(await store.setActive(id, c.req.valid("query").version)), 200, id);
  });

  app.post("/api/v1/policies/:id/deactivate", specialist, async (c) => {
    const id = c.req.param("id");
    return answer(c, changed(await store.setActive(id, null)), 200, id);
  });
}
