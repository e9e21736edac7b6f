// coordinator's routes: the agent registry, and POST /api/v1/coordinate, which records a task
// against the least loaded capable agent, posts it on the blackboard and only then acknowledges
// it. The hot path is three steps: one statement, one blackboard call, one statement.
// - No registered agent has the capability: 200 with status "queued" (posted all the same, so an
//   agent can pick it up from the blackboard). Capacity weighs the load; it is not a hard cap.
// - The blackboard is down (or rate-limits us): 503 with Retry-After, and the task is discarded,
//   never acknowledged. If it timed out after storing the entry, that entry names a task that
//   does not exist (GET /api/v1/tasks/:id answers 404); the client's retry creates a new one.
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
import { DependencyUnavailableError } from "../kit/unavailable";
import { openCoordinatorStore, type Task } from "./store";

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
  const blackboard = createServiceClient(context.config, "blackboard");
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
    const task = await store.createTask(request);
    let posted: { status: number; body: { id?: unknown } };
    try {
      posted = await blackboard.call<{ id?: unknown }>("/api/v1/entries", {
        body: {
          topic: `tasks.${task.task_type}`,
          agent_id: "coordinator",
          content: { ...announcement(task), status: task.assigned_agent === null ? "queued" : "assigned" },
          tags: [task.assigned_agent === null ? "queued" : "assigned"],
        },
        requestId: c.get("requestId"),
        // The caller's token: the blackboard asks the same level of it as this route does.
        authorization: requestHeader(c, "authorization"),
      });
    } catch (error) {
      await forget(task);
      throw error;
    }
    if (posted.status !== 201 || typeof posted.body?.id !== "number") {
      await forget(task);
      if (posted.status === 429) throw new DependencyUnavailableError("blackboard", "rate limited", 1);
      return c.json({ error: "the blackboard refused the task", blackboard: { status: posted.status, body: posted.body } }, 502);
    }
    const done = await store.markPosted(task.task_id, posted.body.id);
    return c.json({ task_id: done.task_id, status: done.status, assigned_agent: done.assigned_agent, blackboard_entry_id: done.blackboard_entry_id });
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

  /** A task that did not reach the blackboard was never acknowledged: drop it and its count. */
  async function forget(task: Task): Promise<void> {
    await store.discardPending(task.task_id).catch((error: Error) =>
      // The database failing too leaves a pending task that no client holds an id of.
      context.logger.warn("pending task not discarded", { taskId: task.task_id, error: error.message }),
    );
  }
}

function announcement(task: Task) {
  const { task_id, task_type, user_id, priority, payload, assigned_agent } = task;
  return { task_id, task_type, user_id, priority, payload, assigned_agent };
}
