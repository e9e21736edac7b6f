// coordinator's routes: the agent registry, and POST /api/v1/coordinate, which counts a task
// against the least loaded capable agent, posts it on the blackboard, records it and only then
// acknowledges it. The three steps are shared by the requests of a batch (task-intake.ts).
// - No registered agent has the capability: 200 with status "queued" (posted all the same, so an
//   agent can pick it up from the blackboard). Capacity weighs the load; it is not a hard cap.
// - The blackboard is down (or rate-limits us): 503 with Retry-After; the task is never recorded
//   and its agent's count goes back. If the call timed out after the blackboard stored the entry,
//   that entry names a task that does not exist (GET /api/v1/tasks/:id answers 404); the
//   client's retry creates a new one.
import { z } from "zod";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { jsonBody } from "../kit/json-body";
import { queryParams } from "../kit/query-params";
import { requestHeader } from "../kit/request-header";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import { createServiceClient } from "../kit/service-client";
import type { ServiceContext } from "../kit/service-context";
import { openCoordinatorStore } from "./store";
import { createTaskIntake } from "./task-intake";

// Task types become blackboard topics ("tasks.<type>"), so they follow the blackboard's naming.
const NAME = /^[A-Za-z0-9][\w.:/-]*$/;
const NAME_RULE = "must be letters, digits and _ . : / -, starting with a letter or digit";
const taskType = z.string().max(100).regex(NAME, NAME_RULE);
const noNul = (value: unknown) => !JSON.stringify(value).includes("\\u0000");

const agentSchema = z.object({
  agent_id: z.string().max(128).regex(NAME, NAME_RULE),
  capabilities: z
    .array(taskType)
    .min(1)
    .max(64)
    .refine((c) => new Set(c).size === c.length, "must not repeat a capability"),
  capacity: z.number().int().min(1).max(10_000),
});

// The body of the seeds' load test, plus optional priority and payload.
const coordinateSchema = z.object({
  task_type: taskType,
  user_id: z.string().min(1).max(128).refine(noNul, "must not contain NUL characters"),
  constitutional_hash: z.string(),
  priority: z.number().int().min(1).max(10).default(5),
  payload: z.record(z.string(), z.json()).refine(noNul, "must not contain NUL characters").default({}),
});

const closeSchema = z.object({ status: z.enum(["completed", "failed"]) });
const taskId = z.uuid({ error: "must be a task id (a UUID)" });
const agentsQuery = z.object({ capability: taskType.optional() });

export function coordinatorRoutes(app: ServiceApp, context: ServiceContext): void {
  if (!context.database) throw new Error("coordinator needs its database");
  const store = openCoordinatorStore(context.database);
  const intake = createTaskIntake(store, createServiceClient(context.config, "blackboard"), context.logger);
  store.ready().catch((error: Error) => context.logger.warn("coordinator schema not applied yet", { error: error.message }));
  const worker = requireLevel(ROLE_LEVELS.worker);

  app.post("/api/v1/agents", requireLevel(ROLE_LEVELS.specialist), jsonBody(agentSchema), async (c) => {
    const { agent, created } = await store.registerAgent(c.req.valid("json"));
    return c.json(agent, created ? 201 : 200);
  });

  app.get("/api/v1/agents", queryParams(agentsQuery), async (c) => c.json({ agents: await store.agents(c.req.valid("query").capability) }));

  app.post("/api/v1/coordinate", worker, jsonBody(coordinateSchema), async (c) => {
    const { constitutional_hash, ...request } = c.req.valid("json");
    if (constitutional_hash !== CONSTITUTIONAL_HASH) {
      return c.json(
        {
          error: "constitutional hash mismatch",
          fields: [{ path: "constitutional_hash", message: `must be ${CONSTITUTIONAL_HASH}` }],
          expected: CONSTITUTIONAL_HASH,
          received: constitutional_hash,
        },
        403,
      );
    }
    const outcome = await intake.submit({
      task: request,
      requestId: c.get("requestId"),
      // The caller's token: the blackboard asks the same level of it as this route does.
      authorization: requestHeader(c, "authorization"),
    });
    if ("refused" in outcome) return c.json({ error: "the blackboard refused the task", blackboard: outcome.refused }, 502);
    return c.json(outcome);
  });

  app.get("/api/v1/tasks/:id", async (c) => {
    const id = taskId.safeParse(c.req.param("id"));
    if (!id.success) return c.json({ error: "invalid task id", fields: [{ path: "id", message: id.error.issues[0].message }] }, 400);
    const task = await store.task(id.data);
    return task ? c.json(task) : c.json({ error: "task not found", task_id: id.data }, 404);
  });

  app.patch("/api/v1/tasks/:id", worker, jsonBody(closeSchema), async (c) => {
    const id = taskId.safeParse(c.req.param("id"));
    if (!id.success) return c.json({ error: "invalid task id", fields: [{ path: "id", message: id.error.issues[0].message }] }, 400);
    const result = await store.closeTask(id.data, c.req.valid("json").status);
    switch (result.outcome) {
      case "closed":
        return c.json(result.task);
      case "not_found":
        return c.json({ error: "task not found", task_id: id.data }, 404);
      case "not_open":
        return c.json({ error: "task is not open", task_id: id.data, status: result.task.status }, 409);
    }
  });
}
