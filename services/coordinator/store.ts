// The coordinator's SQL: the agent registry with each agent's open tasks, and the tasks. Choosing
// an agent, counting the task against it and recording the task is one statement, so concurrent
// requests never double-count and a lost connection leaves nothing half done.
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
  /** Records a pending task, assigned to the least loaded capable agent (none: unassigned). */
  createTask(task: NewTask): Promise<Task>;
  /** The task is on the blackboard: assigned or queued from now on. */
  markPosted(taskId: string, blackboardEntryId: number): Promise<Task>;
  /** Forgets a pending task that could not be posted, and its agent's count. */
  discardPending(taskId: string): Promise<void>;
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

// The capable agent with the lowest open/capacity (ties: agent id). SKIP LOCKED spreads
// concurrent requests over agents instead of queueing them all on the same row; only when every
// capable agent is locked by a concurrent assignment does the second branch wait for the least
// loaded one, so a busy agent is never mistaken for a missing one.
const CHOOSE_AGENT = `
  free AS (
    SELECT agent_id FROM coordinator_agents
     WHERE capabilities @> ARRAY[$1]::text[]
     ORDER BY open_tasks::float8 / capacity, agent_id
     LIMIT 1
     FOR UPDATE SKIP LOCKED
  ), busy AS (
    SELECT agent_id FROM coordinator_agents
     WHERE capabilities @> ARRAY[$1]::text[] AND NOT EXISTS (SELECT 1 FROM free)
     ORDER BY open_tasks::float8 / capacity, agent_id
     LIMIT 1
     FOR UPDATE
  ), chosen AS (
    SELECT agent_id FROM free UNION ALL SELECT agent_id FROM busy
  ), counted AS (
    UPDATE coordinator_agents a SET open_tasks = a.open_tasks + 1
      FROM chosen WHERE a.agent_id = chosen.agent_id
    RETURNING a.agent_id
  )`;

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
    async createTask({ task_type, user_id, priority, payload }) {
      await ready();
      const [created] = await taskQuery(
        `WITH ${CHOOSE_AGENT}
         INSERT INTO coordinator_tasks (task_type, user_id, priority, payload, status, assigned_agent)
         SELECT $1::text, $2::text, $3::smallint, $4::jsonb, 'pending', (SELECT agent_id FROM counted)
         RETURNING ${TASK_COLUMNS}`,
        [task_type, user_id, priority, JSON.stringify(payload)],
      );
      return created;
    },
    async markPosted(taskId, blackboardEntryId) {
      const [posted] = await taskQuery(
        `UPDATE coordinator_tasks
            SET status = CASE WHEN assigned_agent IS NULL THEN 'queued' ELSE 'assigned' END,
                blackboard_entry_id = $2, updated_at = now()
          WHERE id = $1 AND status = 'pending'
         RETURNING ${TASK_COLUMNS}`,
        [taskId, blackboardEntryId],
      );
      if (!posted) throw new Error(`task ${taskId} is no longer pending`);
      return posted;
    },
    async discardPending(taskId) {
      await database.query(
        `WITH gone AS (
           DELETE FROM coordinator_tasks WHERE id = $1 AND status = 'pending' RETURNING assigned_agent
         )
         UPDATE coordinator_agents a SET open_tasks = a.open_tasks - 1 FROM gone WHERE a.agent_id = gone.assigned_agent`,
        [taskId],
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
