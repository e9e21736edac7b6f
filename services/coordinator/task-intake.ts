// Group commit of coordinate requests. A batch of tasks takes three steps: its agents are chosen
// (one statement), it is posted on the blackboard (one call per forwarded token), and it is
// recorded (one statement). One statement runs at a time, and each takes everything waiting: the
// requests that arrived meanwhile (to assign) and the batches the blackboard took (to record). So
// under load a statement serves many requests and two batches, where each request used to cost
// three statements and a call; an idle coordinator still starts a request's batch at once.
// A task is acknowledged only once it and its blackboard entry are stored. Tasks the blackboard
// did not take give their agents' counts back before their requests answer.
import { randomUUID } from "node:crypto";
import { batchLength, type BatchLimits } from "../kit/group-commit";
import type { Logger } from "../kit/logger";
import type { ServiceClient } from "../kit/service-client";
import { DependencyUnavailableError } from "../kit/unavailable";
import type { CoordinatorStore, NewTask, PostedTask } from "./store";

export interface Coordinated {
  readonly task_id: string;
  readonly status: "assigned" | "queued";
  readonly assigned_agent: string | null;
  readonly blackboard_entry_id: number;
}

/** The blackboard answered the post with something other than the entries: the route answers 502. */
export interface Refused {
  readonly refused: { readonly status: number; readonly body: unknown };
}

export interface TaskRequest {
  readonly task: NewTask;
  /** The caller's request id, carried by the blackboard call of its group. */
  readonly requestId: string;
  /** The caller's Authorization header, forwarded: the blackboard asks the same level of it. */
  readonly authorization?: string;
}

export interface TaskIntake {
  /** Assigns, posts and records the task; rejects as the store or the blackboard fail (503 for a dependency down). */
  submit(request: TaskRequest): Promise<Coordinated | Refused>;
}

interface Waiting extends TaskRequest {
  readonly id: string;
  /** Characters of the task's JSON, about what its blackboard entry weighs. */
  readonly weight: number;
  resolve(outcome: Coordinated | Refused): void;
  reject(error: unknown): void;
}

interface Assigned extends Waiting {
  readonly agent: string | null;
}

interface Posted {
  readonly waiting: Waiting;
  readonly task: PostedTask;
}

interface GroupFailure {
  readonly group: readonly Assigned[];
  /** A Refused, or the error the group's requests reject with. */
  readonly failure: unknown;
}

// Bounds of one batch: the blackboard takes at most 1000 entries and 1 MiB a call, and choosing
// agents for k tasks weighs up to k * k slots.
const BATCH_LIMITS: BatchLimits<Waiting> = { maxItems: 100, maxWeight: 256 * 1024, weigh: (w) => w.weight };

export function createTaskIntake(store: CoordinatorStore, blackboard: ServiceClient, logger: Logger): TaskIntake {
  const arrived: Waiting[] = [];
  let posted: Posted[] = [];
  // One statement at a time: concurrent ones would only queue on the same agents' row locks.
  let running = false;
  let scheduled = false;

  const schedule = () => {
    if (running || scheduled || (arrived.length === 0 && posted.length === 0)) return;
    scheduled = true;
    // After the current I/O callbacks, so that requests read in the same turn share the batch.
    setImmediate(runStatement);
  };

  function runStatement(): void {
    scheduled = false;
    if (running) return;
    const batch = arrived.splice(0, batchLength(arrived, BATCH_LIMITS));
    const recording = posted;
    posted = [];
    if (batch.length === 0 && recording.length === 0) return;
    running = true;
    store.recordAndAssign(recording.map((p) => p.task), batch.map((w) => w.task.task_type)).then(
      (agents) => {
        running = false;
        schedule();
        for (const { waiting, task } of recording) {
          const status = task.assigned_agent === null ? "queued" : "assigned";
          waiting.resolve({ task_id: task.id, status, assigned_agent: task.assigned_agent, blackboard_entry_id: task.blackboard_entry_id });
        }
        if (batch.length === 0) return;
        const assigned = batch.map((w, i) => ({ ...w, agent: agents[i] }));
        // post() answers every request itself; this only catches a bug, so that none hangs.
        post(assigned).catch((error: unknown) => assigned.forEach((a) => a.reject(error)));
      },
      (error: unknown) => {
        // Neither step happened: the new tasks hold no count; the posted ones keep theirs (too high is the safe side).
        running = false;
        schedule();
        for (const { waiting } of recording) waiting.reject(error);
        for (const w of batch) w.reject(error);
      },
    );
  }

  async function post(batch: Assigned[]): Promise<void> {
    const groups = new Map<string | undefined, Assigned[]>();
    for (const a of batch) {
      const group = groups.get(a.authorization);
      if (group === undefined) groups.set(a.authorization, [a]);
      else group.push(a);
    }
    const outcomes = await Promise.all([...groups.values()].map(postGroup));
    const failed: GroupFailure[] = [];
    for (const outcome of outcomes) {
      if ("failure" in outcome) failed.push(outcome);
      else outcome.group.forEach((a, i) => posted.push({ waiting: a, task: { id: a.id, ...a.task, assigned_agent: a.agent, blackboard_entry_id: outcome.entryIds[i] } }));
    }
    schedule();
    await release(failed);
  }

  async function postGroup(group: Assigned[]): Promise<{ group: Assigned[]; entryIds: number[] } | GroupFailure> {
    if (group.length > 1 && logger.enabled("debug")) {
      logger.debug("tasks posted together", { requestId: group[0].requestId, requestIds: group.map((a) => a.requestId) });
    }
    try {
      const answer = await blackboard.call<{ entries?: { id?: unknown }[] }>("/api/v1/entries/batch", {
        body: { entries: group.map(entry) },
        requestId: group[0].requestId,
        authorization: group[0].authorization,
      });
      const ids = answer.status === 201 && Array.isArray(answer.body?.entries) ? answer.body.entries.map((e) => e?.id) : [];
      if (ids.length === group.length && ids.every((id) => typeof id === "number")) return { group, entryIds: ids as number[] };
      if (answer.status === 429) return { group, failure: new DependencyUnavailableError("blackboard", "rate limited", 1) };
      return { group, failure: { refused: { status: answer.status, body: answer.body } } satisfies Refused };
    } catch (error) {
      return { group, failure: error };
    }
  }

  /** Tasks that did not reach the blackboard were never acknowledged: their counts go back first. */
  async function release(failed: readonly GroupFailure[]): Promise<void> {
    if (failed.length === 0) return;
    const agents = failed.flatMap((f) => f.group.map((a) => a.agent));
    await store.releaseAgents(agents).catch((error: Error) =>
      // The database failing too leaves these agents counted busier than they are.
      logger.warn("counts of unposted tasks not given back", { agents, error: error.message }),
    );
    for (const { group, failure } of failed) {
      for (const a of group) {
        if (isRefused(failure)) a.resolve(failure);
        else a.reject(failure);
      }
    }
  }

  return {
    submit({ task, requestId, authorization }) {
      return new Promise((resolve, reject) => {
        const weight = JSON.stringify(task.payload).length + 200;
        arrived.push({ id: randomUUID(), task, requestId, authorization, weight, resolve, reject });
        schedule();
      });
    },
  };
}

function isRefused(failure: unknown): failure is Refused {
  return typeof failure === "object" && failure !== null && "refused" in failure;
}

/** The task's blackboard entry, under the topic of its type. */
function entry({ id, task, agent }: Assigned) {
  const status = agent === null ? "queued" : "assigned";
  const { task_type, user_id, priority, payload } = task;
  return {
    topic: `tasks.${task_type}`,
    agent_id: "coordinator",
    content: { task_id: id, task_type, user_id, priority, payload, assigned_agent: agent, status },
    tags: [status],
  };
}
