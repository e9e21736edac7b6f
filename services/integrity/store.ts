// The audit log's SQL: schema, append (serialized on the chain head row's lock), and reads in sequence
// order. The table refuses UPDATE, DELETE and TRUNCATE itself, so even a bug in this service (or
// a hand-typed query) cannot rewrite history without first disabling the trigger as its owner.
import type { Database } from "../kit/database";
import type { Migration } from "../kit/migrations";
import { schemaReady } from "../kit/schema-ready";
import { canonicalEntryBeforeSequence, GENESIS_HASH, type ChainedEntry } from "./chain-hash";

// One statement per migration: pg answers a multi-statement query with an array of results.
const MIGRATIONS: readonly Migration[] = [
  {
    id: "001-create-audit-entries",
    sql: `CREATE TABLE audit_entries (
            sequence bigint PRIMARY KEY CHECK (sequence > 0),
            actor text NOT NULL,
            action text NOT NULL,
            decision text NOT NULL,
            details jsonb NOT NULL,
            recorded_at timestamptz NOT NULL,
            previous_hash text NOT NULL,
            hash text NOT NULL UNIQUE
          )`,
  },
  {
    // One row: the last link. Appends lock it, which serializes them across connections and replicas.
    id: "002-create-audit-chain-head",
    sql: `CREATE TABLE audit_chain_head (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            sequence bigint NOT NULL,
            hash text NOT NULL
          )`,
  },
  { id: "003-start-audit-chain", sql: `INSERT INTO audit_chain_head (sequence, hash) VALUES (0, '${GENESIS_HASH}')` },
  {
    id: "004-create-audit-refusal",
    sql: `CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
          END $$`,
  },
  {
    id: "005-refuse-audit-update-delete",
    sql: `CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change()`,
  },
  {
    id: "006-refuse-audit-truncate",
    sql: `CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
            FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change()`,
  },
];

export interface NewAuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly decision: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditEntry extends ChainedEntry {
  readonly previous_hash: string;
  readonly hash: string;
}

export interface ChainHead {
  readonly sequence: number;
  readonly hash: string;
}

export interface AuditStore {
  /** Resolves once the schema is in place (retried on the next call after a failure). */
  ready(): Promise<void>;
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Entries with sequence > after (and <= upTo when given), in sequence order. */
  list(after: number, limit: number, upTo?: number): Promise<AuditEntry[]>;
  head(): Promise<ChainHead>;
}

interface EntryRow {
  sequence: string;
  actor: string;
  action: string;
  decision: string;
  details: Record<string, unknown>;
  recorded_at: Date | string;
  previous_hash: string;
  hash: string;
}

export function openAuditStore(database: Database): AuditStore {
  const ready = schemaReady(database, "integrity", MIGRATIONS);

  return {
    ready,
    async append(entry) {
      await ready();
      const recorded_at = new Date().toISOString();
      // One statement: lock the head, link, insert, move the head. Concurrent appends queue on the
      // head row's lock, and a connection lost midway leaves nothing half done. $5 is the entry's
      // canonical JSON up to its sequence, which only the locked head knows (chain-hash.ts).
      const { rows } = await database.query<{ sequence: string; previous_hash: string; hash: string }>(
        `WITH head AS (
           SELECT sequence + 1 AS sequence, hash AS previous_hash FROM audit_chain_head FOR UPDATE
         ), link AS (
           SELECT sequence, previous_hash,
                  encode(sha256(convert_to(previous_hash || $5::text || sequence::text || '}', 'UTF8')), 'hex') AS hash
             FROM head
         ), appended AS (
           INSERT INTO audit_entries (sequence, actor, action, decision, details, recorded_at, previous_hash, hash)
           SELECT sequence, $1::text, $2::text, $3::text, $4::jsonb, $6::timestamptz, previous_hash, hash FROM link
           RETURNING sequence, previous_hash, hash
         )
         UPDATE audit_chain_head SET sequence = appended.sequence, hash = appended.hash
           FROM appended
         RETURNING appended.sequence, appended.previous_hash, appended.hash`,
        [entry.actor, entry.action, entry.decision, JSON.stringify(entry.details), canonicalEntryBeforeSequence({ ...entry, recorded_at }), recorded_at],
      );
      const row = rows[0];
      return { sequence: Number(row.sequence), ...entry, recorded_at, previous_hash: row.previous_hash, hash: row.hash };
    },
    async list(after, limit, upTo) {
      await ready();
      const { rows } = await database.query<EntryRow>(
        `SELECT sequence, actor, action, decision, details, recorded_at, previous_hash, hash
           FROM audit_entries
          WHERE sequence > $1 AND ($3::bigint IS NULL OR sequence <= $3)
          ORDER BY sequence
          LIMIT $2`,
        [after, limit, upTo ?? null],
      );
      return rows.map(toEntry);
    },
    async head() {
      await ready();
      const { rows } = await database.query<{ sequence: string; hash: string }>("SELECT sequence, hash FROM audit_chain_head");
      return { sequence: Number(rows[0].sequence), hash: rows[0].hash };
    },
  };
}

function toEntry(row: EntryRow): AuditEntry {
  return {
    sequence: Number(row.sequence),
    actor: row.actor,
    action: row.action,
    decision: row.decision,
    details: row.details,
    // pg hands back a Date, PGlite may too; both print the stored millisecond instant.
    recorded_at: new Date(row.recorded_at).toISOString(),
    previous_hash: row.previous_hash,
    hash: row.hash,
  };
}
