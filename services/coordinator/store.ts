// The coordinator's SQL: the agent registry with each agent's open tasks, and the tasks. Tasks
// come in batches (see task-intake.ts), each in two steps: agents are chosen and the tasks
// counted against them (a function, coordinator_assign_agents, so concurrent batches never
// double-count), then, once the blackboard holds the tasks, the tasks are recorded with their
// entries. One statement does both steps, for different batches, where it can: recording one
// batch and assigning the next. A batch the blackboard did not take gives its counts back.
// open_tasks counts the assigned and queued tasks of an agent; a crash between the two steps can
// only leave it too high (an agent looks busier), never too low, and a recount from the tasks
// repairs it.
import type { Database } from "../kit/database";
import type { Migration } from "../kit/migrations";
import { schemaReady } from "../kit/schema-ready";

// One statement per migration: pg answers a multi-statement query with an array of results.
const MIGRATIONS: readonly Migration[] = [
  {
    id: "001-create-coordinator-agents",
    sql: `CREATE TABLE coordinator_agents (
            agent_id text PRIMARY KEY,
            capabilities text[] NOT NULL,
            capacity integer NOT NULL CHECK (capacity > 0),
            open_tasks integer NOT NULL DEFAULT 0 CHECK (open_tasks >= 0),
            registered_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
  { id: "002-index-agent-capabilities", sql: "CREATE INDEX coordinator_agents_capabilities ON coordinator_agents USING gin (capabilities)" },
  {
    id: "003-create-coordinator-tasks",
    sql: `CREATE TABLE coordinator_tasks (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            task_type text NOT NULL,
            user_id text NOT NULL,
            priority smallint NOT NULL,
            payload jsonb NOT NULL,
            -- pending: recorded, not yet on the blackboard (never acknowledged to the client).
            status text NOT NULL CHECK (status IN ('pending', 'assigned', 'queued', 'completed', 'failed')),
            assigned_agent text REFERENCES coordinator_agents (agent_id),
            blackboard_entry_id bigint,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
  {
    // Greedy, in the batch's order: each task goes to the capable agent with the lowest
    // (open + already given in this batch) / capacity, ties by agent id. Per task type, that is
    // the k lowest of each agent's slots (open + j) / capacity, j = 0, 1, ... (each agent's rise,
    // so a merge of them is the k-th greedy choice). Types run one after the other, each seeing
    // the counts the previous one left. Agents are locked up front in agent id order, so
    // concurrent batches (other replicas) wait for each other instead of deadlocking; NO KEY, as
    // an UPDATE of open_tasks would, so that recording tasks (their foreign key) never waits. Answers
    // the agent (or null: none capable) of each task by its position n (from 1) in task_types.
    id: "004-create-agent-assignment",
    sql: `CREATE FUNCTION coordinator_assign_agents(task_types jsonb)
          RETURNS TABLE (n bigint, agent_id text)
          LANGUAGE plpgsql
          -- The plans do not depend on the batch: planning them once per connection saves most of the call.
          SET plan_cache_mode = force_generic_plan
          AS $$
          #variable_conflict use_column
          DECLARE
            kind text;
          BEGIN
            PERFORM 1 FROM coordinator_agents
              WHERE capabilities && ARRAY(SELECT jsonb_array_elements_text(task_types))
              ORDER BY agent_id
              FOR NO KEY UPDATE;
            FOR kind IN
              SELECT t FROM jsonb_array_elements_text(task_types) WITH ORDINALITY AS b (t, n) GROUP BY t ORDER BY min(n)
            LOOP
              RETURN QUERY
              WITH todo AS (
                SELECT b.n, row_number() OVER (ORDER BY b.n) AS slot
                  FROM jsonb_array_elements_text(task_types) WITH ORDINALITY AS b (t, n)
                 WHERE b.t = kind
              ), capable AS (
                -- Only the k least loaded can get any of k tasks: one of them is always lower.
                SELECT a.agent_id, a.open_tasks, a.capacity FROM coordinator_agents a
                 WHERE a.capabilities @> ARRAY[kind]
                 ORDER BY a.open_tasks::float8 / a.capacity, a.agent_id
                 LIMIT (SELECT count(*) FROM todo)
              ), slots AS (
                SELECT a.agent_id, row_number() OVER (ORDER BY (a.open_tasks + j)::float8 / a.capacity, a.agent_id) AS slot
                  FROM capable a, generate_series(0, (SELECT count(*) FROM todo) - 1) AS j
              ), chosen AS (
                SELECT todo.n, slots.agent_id FROM todo LEFT JOIN slots USING (slot)
              ), counted AS (
                UPDATE coordinator_agents a SET open_tasks = a.open_tasks + c.tasks
                  FROM (SELECT agent_id, count(*)::int AS tasks FROM chosen WHERE agent_id IS NOT NULL GROUP BY agent_id) c
                 WHERE a.agent_id = c.agent_id
              )
              SELECT n, agent_id FROM chosen;
            END LOOP;
          END
          $$`,
  },
];

export interface AgentRegistration {
  readonly agent_id: string;
  readonly capabilities: readonly string[];
  readonly capacity: number;
}

export interface Agent extends AgentRegistration {
  readonly open_tasks: number;
  /** open_tasks / capacity: what assignment balances. */
  readonly load: number;
  readonly registered_at: string;
  readonly updated_at: string;
}

export interface NewTask {
  readonly task_type: string;
  readonly user_id: string;
  readonly priority: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A task on the blackboard, about to be recorded. */
export interface PostedTask extends NewTask {
  readonly id: string;
  readonly assigned_agent: string | null;
  readonly blackboard_entry_id: number;
}

/** "pending" only in tasks of earlier versions, which recorded a task before posting it. */
export type TaskStatus = "pending" | "assigned" | "queued" | "completed" | "failed";

export interface Task extends NewTask {
  readonly task_id: string;
  readonly status: TaskStatus;
  readonly assigned_agent: string | null;
  readonly blackboard_entry_id: number | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export type CloseOutcome =
  | { readonly outcome: "closed"; readonly task: Task }
  | { readonly outcome: "not_found" }
  | { readonly outcome: "not_open"; readonly task: Task };

export interface CoordinatorStore {
  ready(): Promise<void>;
  /** Registers the agent, or updates its capabilities and capacity (its open tasks stay). */
  registerAgent(agent: AgentRegistration): Promise<{ agent: Agent; created: boolean }>;
  agents(capability?: string): Promise<Agent[]>;
  /**
   * In one statement: records tasks that are on the blackboard (assigned, or queued when no agent
   * was capable), then chooses the agent of each new task in turn, the least loaded capable one
   * (null: none capable), counting the task against it. Answers the agents in the order of
   * `taskTypes`. Either both happen or neither.
   */
  recordAndAssign(posted: readonly PostedTask[], taskTypes: readonly string[]): Promise<(string | null)[]>;
  /** Gives back the counts of tasks assigned but never recorded (the blackboard did not take them). */
  releaseAgents(agents: readonly (string | null)[]): Promise<void>;
  task(taskId: string): Promise<Task | undefined>;
  /** Completes or fails an assigned or queued task, freeing its agent's capacity. */
  closeTask(taskId: string, status: "completed" | "failed"): Promise<CloseOutcome>;
}

interface AgentRow {
  agent_id: string;
  capabilities: string[];
  capacity: number;
  open_tasks: number;
  registered_at: Date | string;
  updated_at: Date | string;
}

interface TaskRow {
  id: string;
  task_type: string;
  user_id: string;
  priority: number;
  payload: Record<string, unknown>;
  status: TaskStatus;
  assigned_agent: string | null;
  blackboard_entry_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const TASK_COLUMNS = "id, task_type, user_id, priority, payload, status, assigned_agent, blackboard_entry_id, created_at, updated_at";

// Tasks the blackboard holds, as coordinator_tasks rows: $1 is a JSON array of PostedTask.
const RECORDED = `
  recorded AS (
    INSERT INTO coordinator_tasks (id, task_type, user_id, priority, payload, status, assigned_agent, blackboard_entry_id)
    SELECT id, task_type, user_id, priority, payload, CASE WHEN assigned_agent IS NULL THEN 'queued' ELSE 'assigned' END, assigned_agent, blackboard_entry_id
      FROM jsonb_to_recordset($1::jsonb)
        AS t (id uuid, task_type text, user_id text, priority smallint, payload jsonb, assigned_agent text, blackboard_entry_id bigint)
  )`;
const RECORD = `WITH ${RECORDED} SELECT NULL::bigint AS n, NULL::text AS agent_id WHERE false`;
const ASSIGN = "SELECT n, agent_id FROM coordinator_assign_agents($1::jsonb)";
// The insert runs to its end whether or not a row of the answer refers to it.
const RECORD_AND_ASSIGN = `WITH ${RECORDED} SELECT n, agent_id FROM coordinator_assign_agents($2::jsonb)`;

export function openCoordinatorStore(database: Database): CoordinatorStore {
  const ready = schemaReady(database, "coordinator", MIGRATIONS);
  const taskQuery = async (sql: string, params: unknown[]) => (await database.query<TaskRow>(sql, params)).rows.map(toTask);
  const task = async (taskId: string) => {
    await ready();
    return (await taskQuery(`SELECT ${TASK_COLUMNS} FROM coordinator_tasks WHERE id = $1`, [taskId]))[0];
  };

  return {
    ready,
    async registerAgent({ agent_id, capabilities, capacity }) {
      await ready();
      const { rows } = await database.query<AgentRow & { created: boolean }>(
        `INSERT INTO coordinator_agents (agent_id, capabilities, capacity) VALUES ($1, $2, $3)
         ON CONFLICT (agent_id) DO UPDATE
           SET capabilities = EXCLUDED.capabilities, capacity = EXCLUDED.capacity, updated_at = now()
         RETURNING *, (xmax = 0) AS created`,
        [agent_id, capabilities, capacity],
      );
      return { agent: toAgent(rows[0]), created: rows[0].created };
    },
    async agents(capability) {
      await ready();
      const { rows } = await database.query<AgentRow>(
        `SELECT * FROM coordinator_agents WHERE $1::text IS NULL OR capabilities @> ARRAY[$1]::text[] ORDER BY agent_id`,
        [capability ?? null],
      );
      return rows.map(toAgent);
    },
    async recordAndAssign(posted, taskTypes) {
      await ready();
      const agents = new Array<string | null>(taskTypes.length).fill(null);
      if (posted.length === 0 && taskTypes.length === 0) return agents;
      const [name, text, params] =
        posted.length === 0
          ? ["coordinator-assign", ASSIGN, [JSON.stringify(taskTypes)]]
          : taskTypes.length === 0
            ? ["coordinator-record", RECORD, [JSON.stringify(posted)]]
            : ["coordinator-record-and-assign", RECORD_AND_ASSIGN, [JSON.stringify(posted), JSON.stringify(taskTypes)]];
      const { rows } = await database.query<{ n: string; agent_id: string | null }>(text, params, { name });
      for (const row of rows) agents[Number(row.n) - 1] = row.agent_id;
      return agents;
    },
    async releaseAgents(agents) {
      const counts = new Map<string, number>();
      for (const agent of agents) if (agent !== null) counts.set(agent, (counts.get(agent) ?? 0) + 1);
      if (counts.size === 0) return;
      await database.query(
        `UPDATE coordinator_agents a SET open_tasks = a.open_tasks - r.tasks::int
           FROM jsonb_each_text($1::jsonb) AS r (agent_id, tasks)
          WHERE a.agent_id = r.agent_id`,
        [JSON.stringify(Object.fromEntries(counts))],
      );
    },
    task,
    async closeTask(taskId, status) {
      await ready();
      const [closed] = await taskQuery(
        `WITH closed AS (
           UPDATE coordinator_tasks SET status = $2, updated_at = now()
            WHERE id = $1 AND status IN ('assigned', 'queued')
           RETURNING ${TASK_COLUMNS}
         ), freed AS (
           UPDATE coordinator_agents a SET open_tasks = a.open_tasks - 1 FROM closed WHERE a.agent_id = closed.assigned_agent
         )
         SELECT * FROM closed`,
        [taskId, status],
      );
      if (closed) return { outcome: "closed", task: closed };
      const current = await task(taskId);
      return current ? { outcome: "not_open", task: current } : { outcome: "not_found" };
    },
  };
}

function toAgent(row: AgentRow): Agent {
  return {
    agent_id: row.agent_id,
    capabilities: row.capabilities,
    capacity: row.capacity,
    open_tasks: row.open_tasks,
    load: row.open_tasks / row.capacity,
    registered_at: new Date(row.registered_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function toTask(row: TaskRow): Task {
  return {
    task_id: row.id,
    task_type: row.task_type,
    user_id: row.user_id,
    priority: row.priority,
    payload: row.payload,
    status: row.status,
    assigned_agent: row.assigned_agent,
    blackboard_entry_id: row.blackboard_entry_id === null ? null : Number(row.blackboard_entry_id),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
