// The audit log's SQL: schema, append (in batches, serialized on the chain head row's lock), and
// reads in sequence order. The table refuses UPDATE, DELETE and TRUNCATE itself, so even a bug in
// this service (or a hand-typed query) cannot rewrite history without first disabling the trigger
// as its owner.
import type { Database } from "../kit/database";
import type { Migration } from "../kit/migrations";
import { schemaReady } from "../kit/schema-ready";
import { canonicalEntryBeforeSequence, GENESIS_HASH, linkHash, type ChainedEntry } from "./chain-hash";
import { createGroupCommit } from "../kit/group-commit";

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
  /** Resolves once the entry is committed, in a batch with the appends that arrived meanwhile. */
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Entries with sequence > after (and <= upTo when given), in sequence order. */
  list(after: number, limit: number, upTo?: number): Promise<AuditEntry[]>;
  head(): Promise<ChainHead>;
  readonly batching: BatchingStats;
}

export interface BatchingStats {
  /** Appends waiting for the next batch. */
  readonly waiting: number;
  /** Batches written (or failed) so far, and the appends they held. */
  readonly batches: number;
  readonly items: number;
  /** Optimistic batch writes that found the chain head moved by another replica. */
  readonly headMoved: number;
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

/** An append waiting for its batch, with the work that needs no lock done already. */
interface PendingAppend {
  readonly entry: NewAuditEntry;
  readonly recorded_at: string;
  readonly canonicalBeforeSequence: string;
  readonly detailsJson: string;
}

const ENTRY_COLUMNS = "sequence, actor, action, decision, details, recorded_at, previous_hash, hash";
const ENTRY_ARRAYS = "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])";

// The usual case, one statement and one round trip: lock the head and, if it is still the one
// the batch was linked to ($9, $10), insert the batch and move the head to its last entry ($11,
// $12). Otherwise (another replica appended meanwhile) nothing is written; either way the answer
// is the head as it was once locked.
const APPEND_IF_HEAD = `WITH head AS MATERIALIZED (
    SELECT sequence, hash FROM audit_chain_head FOR UPDATE
  ), appended AS (
    INSERT INTO audit_entries (${ENTRY_COLUMNS})
    SELECT * FROM ${ENTRY_ARRAYS} WHERE (SELECT sequence = $9 AND hash = $10 FROM head)
  ), moved AS (
    UPDATE audit_chain_head SET sequence = $11, hash = $12 WHERE (SELECT sequence = $9 AND hash = $10 FROM head)
    RETURNING true
  )
  SELECT head.sequence, head.hash, EXISTS (SELECT FROM moved) AS appended FROM head`;

// The fallback, in a transaction that holds the head's lock from reading it to committing.
const LOCK_HEAD = "SELECT sequence, hash FROM audit_chain_head FOR UPDATE";
const INSERT_BATCH = `WITH appended AS (
    INSERT INTO audit_entries (${ENTRY_COLUMNS}) SELECT * FROM ${ENTRY_ARRAYS}
  )
  UPDATE audit_chain_head SET sequence = $9, hash = $10`;

// A batch's statement carries every entry: bounded so that a burst of large entries stays well
// under PostgreSQL's 1 GB message limit and does not hold the head's lock for long.
const BATCH_LIMITS = { maxItems: 500, maxWeight: 4 * 1024 * 1024, weigh: (p: PendingAppend) => p.canonicalBeforeSequence.length };
// Optimistic tries before taking the lock for the whole linking (replicas appending all the time).
const OPTIMISTIC_TRIES = 2;

/** Links a batch after `head`: sequence numbers and hashes, in order. */
function linkBatch(head: ChainHead, batch: readonly PendingAppend[]): AuditEntry[] {
  let sequence = head.sequence;
  let previous_hash = head.hash;
  return batch.map(({ entry, recorded_at, canonicalBeforeSequence }) => {
    sequence += 1;
    const hash = linkHash(previous_hash, canonicalBeforeSequence, sequence);
    const linked = { sequence, ...entry, recorded_at, previous_hash, hash };
    previous_hash = hash;
    return linked;
  });
}

const headOf = (linked: readonly AuditEntry[]): ChainHead => ({ sequence: linked[linked.length - 1].sequence, hash: linked[linked.length - 1].hash });

/** $1..$8 of both inserts: the batch's columns as arrays. */
function entryArrays(linked: readonly AuditEntry[], batch: readonly PendingAppend[]): unknown[] {
  return [
    linked.map((e) => e.sequence),
    linked.map((e) => e.actor),
    linked.map((e) => e.action),
    linked.map((e) => e.decision),
    batch.map((p) => p.detailsJson),
    linked.map((e) => e.recorded_at),
    linked.map((e) => e.previous_hash),
    linked.map((e) => e.hash),
  ];
}

export function openAuditStore(database: Database): AuditStore {
  const ready = schemaReady(database, "integrity", MIGRATIONS);
  // The head as this process last saw it; unknown at start. Only one batch is written at a time.
  let knownHead: ChainHead | undefined;
  let headMoved = 0;

  /** Writes the batch linked after `head` if the head is still that; else answers the head as it is. */
  const appendIfHead = async (head: ChainHead, batch: readonly PendingAppend[]): Promise<AuditEntry[] | ChainHead> => {
    const linked = linkBatch(head, batch);
    const last = linked[linked.length - 1];
    const { rows } = await database.query<{ sequence: string; hash: string; appended: boolean }>(
      APPEND_IF_HEAD,
      [...entryArrays(linked, batch), head.sequence, head.hash, last.sequence, last.hash],
      { name: "integrity-append-if-head" },
    );
    return rows[0].appended ? linked : { sequence: Number(rows[0].sequence), hash: rows[0].hash };
  };

  const appendLocked = (batch: readonly PendingAppend[]): Promise<AuditEntry[]> =>
    database.transaction(async (tx) => {
      const { rows } = await tx.query<{ sequence: string; hash: string }>(LOCK_HEAD, [], { name: "integrity-lock-head" });
      const linked = linkBatch({ sequence: Number(rows[0].sequence), hash: rows[0].hash }, batch);
      const last = linked[linked.length - 1];
      await tx.query(INSERT_BATCH, [...entryArrays(linked, batch), last.sequence, last.hash], { name: "integrity-append-batch" });
      return linked;
    });

  // Either way, one transaction per batch: the whole batch is committed, or none of it.
  const writeBatch = async (batch: readonly PendingAppend[]): Promise<AuditEntry[]> => {
    for (let tries = 0; knownHead !== undefined && tries < OPTIMISTIC_TRIES; tries++) {
      const answer = await appendIfHead(knownHead, batch);
      if (Array.isArray(answer)) {
        knownHead = headOf(answer);
        return answer;
      }
      headMoved += 1;
      knownHead = answer;
    }
    const linked = await appendLocked(batch);
    knownHead = headOf(linked);
    return linked;
  };
  const appends = createGroupCommit(writeBatch, BATCH_LIMITS);

  return {
    ready,
    async append(entry) {
      await ready();
      const recorded_at = new Date().toISOString();
      return appends.submit({
        entry,
        recorded_at,
        canonicalBeforeSequence: canonicalEntryBeforeSequence({ ...entry, recorded_at }),
        detailsJson: JSON.stringify(entry.details),
      });
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
        { name: "integrity-list" },
      );
      return rows.map(toEntry);
    },
    async head() {
      await ready();
      const { rows } = await database.query<{ sequence: string; hash: string }>("SELECT sequence, hash FROM audit_chain_head", [], {
        name: "integrity-head",
      });
      return { sequence: Number(rows[0].sequence), hash: rows[0].hash };
    },
    batching: {
      get waiting() {
        return appends.waiting;
      },
      get batches() {
        return appends.batches;
      },
      get items() {
        return appends.items;
      },
      get headMoved() {
        return headMoved;
      },
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
