// The blackboard's SQL. Entries are read in the order their transactions got their ids (xid8),
// and only once every transaction that could still commit before them has finished (below the
// snapshot's xmin). A reader paging with a cursor therefore never skips an entry whose insert was
// still in flight, which ordering by the bigserial id alone cannot promise.
// PostgreSQL writes the JSON of a page itself: the service passes it on without parsing a row.
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
  /** The entries as a JSON array, written by PostgreSQL. */
  readonly entriesJson: string;
  readonly count: number;
  /** Cursor of the last entry ("<xid>-<id>"), or undefined when the page is empty. */
  readonly lastCursor?: string;
}

export interface BlackboardStore {
  ready(): Promise<void>;
  /** Stores the entries in one transaction; their ids follow their order. */
  add(entries: readonly NewEntry[]): Promise<Entry[]>;
  page(query: EntryQuery): Promise<EntryPage>;
}

// ISO 8601 in UTC with milliseconds, as JavaScript's toISOString() writes it.
const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// The entries come as one JSON array; ORDER BY n hands them to the sequence in their order.
const INSERT = `
  INSERT INTO blackboard_entries (topic, agent_id, content, tags)
  SELECT e->>'topic', e->>'agent_id', e->'content', ARRAY(SELECT jsonb_array_elements_text(e->'tags'))
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS batch (e, n)
   ORDER BY n
  RETURNING id, ${isoTime("created_at")} AS created_at`;

// Two texts rather than "$1 IS NULL OR topic = $1", so each gets a plan that uses its index.
const pageSql = (byTopic: boolean) => `
  SELECT '[' || coalesce(string_agg(row_to_json(entry)::text, ',' ORDER BY p.xid, p.id), '') || ']' AS entries,
         count(*)::int AS count,
         (array_agg(p.xid::text || '-' || p.id ORDER BY p.xid DESC, p.id DESC))[1] AS last_cursor
    FROM (SELECT id, topic, agent_id, content, tags, created_at, xid FROM blackboard_entries
           WHERE ${byTopic ? "topic = $1" : "$1::text IS NULL"}
             AND (xid, id) > ($2::xid8, $3::bigint)
             AND xid < pg_snapshot_xmin(pg_current_snapshot())
             AND ($4::timestamptz IS NULL OR created_at >= $4)
           ORDER BY xid, id
           LIMIT $5) p,
         LATERAL (SELECT p.id, p.topic, p.agent_id, p.content, p.tags, ${isoTime("p.created_at")} AS created_at) entry`;
const PAGE_BY_TOPIC = pageSql(true);
const PAGE_ALL = pageSql(false);

export function openBlackboardStore(database: Database): BlackboardStore {
  const ready = schemaReady(database, "blackboard", MIGRATIONS);

  return {
    ready,
    async add(entries) {
      await ready();
      const { rows } = await database.query<{ id: string; created_at: string }>(INSERT, [JSON.stringify(entries)], { name: "blackboard-insert" });
      // RETURNING gives no order; the ids do, as the entries took them in order.
      const stored = rows.map((row) => ({ id: Number(row.id), created_at: row.created_at })).sort((a, b) => a.id - b.id);
      // The content stored is JSON.stringify's of the given value, so it reads back equal to it.
      return entries.map(({ topic, agent_id, content, tags }, i) => ({ id: stored[i].id, topic, agent_id, content, tags, created_at: stored[i].created_at }));
    },
    async page({ topic, since, after, limit }) {
      await ready();
      const { rows } = await database.query<{ entries: string; count: number; last_cursor: string | null }>(
        topic === undefined ? PAGE_ALL : PAGE_BY_TOPIC,
        [topic ?? null, after?.xid ?? "0", after?.id ?? "0", since ?? null, limit],
        { name: topic === undefined ? "blackboard-page" : "blackboard-page-by-topic" },
      );
      const [row] = rows;
      return { entriesJson: row.entries, count: row.count, lastCursor: row.last_cursor ?? undefined };
    },
  };
}
