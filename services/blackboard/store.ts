// The blackboard's SQL. Entries are read in the order their transactions got their ids (xid8),
// and only once every transaction that could still commit before them has finished (below the
// snapshot's xmin). A reader paging with a cursor therefore never skips an entry whose insert was
// still in flight, which ordering by the bigserial id alone cannot promise.
import type { Database } from "../kit/database";
import type { Migration } from "../kit/migrations";
import { schemaReady } from "../kit/schema-ready";

// One statement per migration: pg answers a multi-statement query with an array of results.
const MIGRATIONS: readonly Migration[] = [
  {
    id: "001-create-blackboard-entries",
    sql: `CREATE TABLE blackboard_entries (
            id bigserial PRIMARY KEY,
            topic text NOT NULL,
            agent_id text NOT NULL,
            content jsonb NOT NULL,
            tags text[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            xid xid8 NOT NULL DEFAULT pg_current_xact_id()
          )`,
  },
  { id: "002-index-entries-by-topic", sql: "CREATE INDEX blackboard_entries_topic_order ON blackboard_entries (topic, xid, id)" },
  { id: "003-index-entries-in-order", sql: "CREATE INDEX blackboard_entries_order ON blackboard_entries (xid, id)" },
];

export interface NewEntry {
  readonly topic: string;
  readonly agent_id: string;
  readonly content: unknown;
  readonly tags: readonly string[];
}

export interface Entry extends NewEntry {
  readonly id: number;
  readonly created_at: string;
}

/** Where a page ends: the entry's transaction id and its id. */
export interface EntryPosition {
  /** Decimal strings: both may exceed what a JavaScript number holds exactly. */
  readonly xid: string;
  readonly id: string;
}

export interface EntryQuery {
  readonly topic?: string;
  /** Entries created at or after this instant (ISO 8601). */
  readonly since?: string;
  /** Entries after this position. */
  readonly after?: EntryPosition;
  readonly limit: number;
}

export interface EntryPage {
  readonly entries: Entry[];
  /** Position of the last entry, or undefined when the page is empty. */
  readonly last?: EntryPosition;
}

export interface BlackboardStore {
  ready(): Promise<void>;
  add(entry: NewEntry): Promise<Entry>;
  page(query: EntryQuery): Promise<EntryPage>;
}

interface EntryRow {
  id: string;
  topic: string;
  agent_id: string;
  content: unknown;
  tags: string[];
  created_at: Date | string;
  xid: string;
}

const COLUMNS = "id, topic, agent_id, content, tags, created_at, xid::text AS xid";

export function openBlackboardStore(database: Database): BlackboardStore {
  const ready = schemaReady(database, "blackboard", MIGRATIONS);

  return {
    ready,
    async add(entry) {
      await ready();
      const { rows } = await database.query<EntryRow>(
        `INSERT INTO blackboard_entries (topic, agent_id, content, tags) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [entry.topic, entry.agent_id, JSON.stringify(entry.content), entry.tags],
      );
      return toEntry(rows[0]);
    },
    async page({ topic, since, after, limit }) {
      await ready();
      // Two texts rather than "$1 IS NULL OR topic = $1", so each gets a plan that uses its index.
      const { rows } = await database.query<EntryRow>(
        `SELECT ${COLUMNS} FROM blackboard_entries
          WHERE ${topic === undefined ? "$1::text IS NULL" : "topic = $1"}
            AND (xid, id) > ($2::xid8, $3::bigint)
            AND xid < pg_snapshot_xmin(pg_current_snapshot())
            AND ($4::timestamptz IS NULL OR created_at >= $4)
          ORDER BY xid, id
          LIMIT $5`,
        [topic ?? null, after?.xid ?? "0", after?.id ?? "0", since ?? null, limit],
      );
      const last = rows.at(-1);
      return { entries: rows.map(toEntry), last: last ? { xid: last.xid, id: last.id } : undefined };
    },
  };
}

function toEntry(row: EntryRow): Entry {
  return {
    id: Number(row.id),
    topic: row.topic,
    agent_id: row.agent_id,
    content: row.content,
    tags: row.tags,
    created_at: new Date(row.created_at).toISOString(),
  };
}
