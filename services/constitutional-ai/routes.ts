// constitutional-ai's routes: the constitution and its versions, and the validation of a proposed
// action against the version in force, with verdicts cached by version and normalized request.
import type { Context } from "hono";
import { z } from "zod";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { jsonBody } from "../kit/json-body";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { canonicalJson } from "../decision-cache/canonical-json";
import { requestKey } from "../decision-cache/request-key";
import { tieredCache } from "../decision-cache/tiered-cache";
import { principlesSchema } from "./constitution";
import { constitutionInForce, versionSeenEverywhere } from "./constitution-in-force";
import { createConstitutionStore } from "./store";

// The key holds the version and its hash, so a new version never meets an old verdict.
const VERDICT_TTL_SECONDS = 3600;

export const validateRequestSchema = z.strictObject({
  agent_id: z.string().min(1).max(128),
  action: z.strictObject({
    type: z.string().min(1).max(128),
    target: z.string().min(1).max(2048),
    parameters: z.record(z.string(), z.unknown()).optional(),
    risk_level: z.enum(["low", "medium", "high", "critical"]).optional(),
    approved_by: z.string().max(128).optional(),
    description: z.string().max(2000).optional(),
  }),
  context: z.record(z.string(), z.unknown()).optional(),
});

export type ValidateRequest = z.output<typeof validateRequestSchema>;

const newVersionSchema = z.strictObject({
  principles: principlesSchema,
  note: z.string().max(500).default(""),
});

/** The verdict JSON with "cached" appended: a cached verdict is sent as stored, never re-parsed. */
function verdictResponse(c: Context, verdict: string, cached: boolean): Response {
  return c.body(`${verdict.slice(0, -1)},"cached":${cached}}`, 200, { "Content-Type": "application/json" });
}

export function constitutionalAiRoutes(app: ServiceApp, context: ServiceContext): void {
  const { logger } = context;
  const cache = tieredCache(context.cache, context.metrics);
  const store = createConstitutionStore(context.database!);
  // Migrate and seed at start; a database down now is retried by the first request.
  store.ready().catch((error: Error) => logger.warn("constitution store not ready yet", { error: error.message }));
  const inForce = constitutionInForce(store, logger);

  app.post("/api/v1/validate", requireLevel(ROLE_LEVELS.worker), jsonBody(validateRequestSchema), async (c) => {
    const request = c.req.valid("json");
    const constitution = await inForce();
    const key = `verdict:${constitution.version}:${constitution.content_hash.slice(0, 16)}:${requestKey(canonicalJson(request))}`;
    const cached = await cache.get(key);
    if (cached !== undefined) return verdictResponse(c, cached, true);
    const violations = constitution.judge(request);
    const verdict = JSON.stringify({
      compliant: violations.length === 0,
      violations,
      constitution_version: constitution.version,
      constitution_hash: constitution.content_hash,
    });
    await cache.set(key, verdict, VERDICT_TTL_SECONDS);
    return verdictResponse(c, verdict, false);
  });

  app.get("/api/v1/constitution", async (c) => {
    const current = await store.current();
    return c.json({ ...current, constitutional_hash: CONSTITUTIONAL_HASH });
  });

  app.get("/api/v1/constitution/versions", async (c) => c.json({ versions: await store.list() }));

  app.get("/api/v1/constitution/versions/:version", async (c) => {
    const text = c.req.param("version");
    const version = /^\d{1,9}$/.test(text) ? Number(text) : 0;
    if (version < 1) {
      return c.json({ error: "invalid path parameter", fields: [{ path: "version", message: "must be a positive integer" }] }, 400);
    }
    const record = await store.version(version);
    if (!record) return c.json({ error: "constitution version not found", version }, 404);
    return c.json({ ...record, constitutional_hash: CONSTITUTIONAL_HASH });
  });

  app.post("/api/v1/constitution/versions", requireLevel(ROLE_LEVELS.orchestrator), jsonBody(newVersionSchema), async (c) => {
    const { principles, note } = c.req.valid("json");
    const record = await store.create(principles, note, c.get("principal")?.sub ?? null);
    // Acknowledged once no replica can still be judging under a lease taken before the commit.
    await versionSeenEverywhere(performance.now());
    logger.info("constitution version created", { version: record.version, contentHash: record.content_hash, requestId: c.get("requestId") });
    return c.json({ ...record, constitutional_hash: CONSTITUTIONAL_HASH }, 201);
  });
}
