// evolutionary-computation's routes: POST /api/v1/evolve searches policy parameters against the
// decisions policy-governance recorded (see decision-fitness.ts for the model). Small searches
// answer 200 with the result; larger ones (generations × population above inlineLimit) answer 202
// with a job to poll at GET /api/v1/evolve/:id.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import { createServiceClient } from "../kit/service-client";
import type { ServiceContext } from "../kit/service-context";
import { PARAMETER_NAME } from "./decision-fitness";
import { createDecisionSource, DecisionSourceError } from "./decision-source";
import { createEvolutionJobs } from "./evolution-jobs";
import { runEvolution } from "./evolution-run";
import { openEvolutionStore } from "./store";

export interface EvolutionOptions {
  /** Largest generations × population answered inline. */
  readonly inlineLimit?: number;
  /** Background jobs one process runs at once (each takes a share of a core). */
  readonly maxRunningJobs?: number;
}

const bound = z.number().min(-1e6).max(1e6);

const evolveSchema = z.object({
  seed: z.number().int().min(0).max(4294967295),
  generations: z.number().int().min(1).max(5000),
  population: z.number().int().min(2).max(1000),
  parameters: z
    .array(
      z
        .object({
          name: z
            .string()
            .max(256)
            .regex(PARAMETER_NAME, 'must be "threshold" or "<subject|action|resource>:<value>", a value ending in * matching by prefix'),
          min: bound,
          max: bound,
        })
        .refine((p) => p.min <= p.max, { message: "must be at least min", path: ["max"] }),
    )
    .min(1)
    .max(32)
    .superRefine((parameters, ctx) => {
      parameters.forEach((p, i) => {
        const first = parameters.findIndex((q) => q.name === p.name);
        if (first < i) ctx.addIssue({ code: "custom", path: [i, "name"], message: `repeats parameters.${first}.name` });
      });
    }),
  objective: z.enum(["accuracy", "balanced_accuracy"]).default("accuracy"),
});

const jobId = z.uuid({ error: "must be a job id (a UUID)" });

export function evolutionRoutes(app: ServiceApp, context: ServiceContext, options: EvolutionOptions = {}): void {
  if (!context.database) throw new Error("evolutionary-computation needs its database");
  const { inlineLimit = 20_000, maxRunningJobs = 2 } = options;
  const store = openEvolutionStore(context.database);
  const policyGovernance = createServiceClient(context.config, "policy-governance", 5000);
  // One (incremental) read of the decisions serves every request that arrived before it started.
  const decisions = createDecisionSource(policyGovernance);
  const jobs = createEvolutionJobs(store, context.logger, maxRunningJobs);
  store.ready().catch((error: Error) => context.logger.warn("evolution schema not applied yet", { error: error.message }));

  app.post("/api/v1/evolve", requireLevel(ROLE_LEVELS.specialist), jsonBody(evolveSchema), async (c) => {
    const request = c.req.valid("json");
    let source;
    try {
      source = await decisions.read(c.get("requestId"));
    } catch (error) {
      if (!(error instanceof DecisionSourceError)) throw error;
      return c.json({ error: "policy-governance answered unexpectedly", detail: error.detail }, 502);
    }
    if (source.decisions.length === 0) {
      return c.json({ error: "no recorded decisions to evolve against", source: "policy-governance GET /api/v1/decisions" }, 409);
    }
    if (request.generations * request.population <= inlineLimit) {
      return c.json({ status: "succeeded", ...(await runEvolution(request, source)) });
    }
    const job = await jobs.start(request, source);
    if (!job) {
      c.header("Retry-After", "10");
      return c.json({ error: "too many evolution jobs running", running: jobs.running(), limit: maxRunningJobs }, 503);
    }
    const poll = `/api/v1/evolve/${job.job_id}`;
    c.header("Location", poll);
    return c.json({ job_id: job.job_id, status: job.status, generations: job.generations, poll }, 202);
  });

  app.get("/api/v1/evolve/:id", async (c) => {
    const id = jobId.safeParse(c.req.param("id"));
    if (!id.success) return c.json({ error: "invalid job id", fields: [{ path: "id", message: id.error.issues[0].message }] }, 400);
    const job = await store.job(id.data);
    return job ? c.json(job) : c.json({ error: "job not found", job_id: id.data }, 404);
  });
}
