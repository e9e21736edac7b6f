// constitutional-ai's SQL: the versions of the constitution, append-only; the newest is in force.
import type { Database } from "../kit/database";
import { migrate } from "../kit/migrations";
import { contentHash, type ConstitutionVersion, type Principle } from "./constitution";
import { DEFAULT_PRINCIPLES } from "./default-constitution";

const MIGRATIONS = [
  {
    id: "001-constitution-versions",
    sql: `CREATE TABLE constitution_versions (
            version integer PRIMARY KEY CHECK (version > 0),
            content_hash text NOT NULL,
            principles jsonb NOT NULL,
            note text NOT NULL DEFAULT '',
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
];

export interface VersionSummary {
  readonly version: number;
  readonly content_hash: string;
  readonly principle_count: number;
  readonly note: string;
  readonly created_by: string | null;
  readonly created_at: string;
}

export interface VersionRecord extends ConstitutionVersion, Omit<VersionSummary, "principle_count"> {}

export interface ConstitutionStore {
  /** Migrates and seeds once; a failure (database down at start) is retried by the next call. */
  ready(): Promise<void>;
  /** The version in force: number and hash only, the cheap question asked on every validation. */
  currentHead(): Promise<{ version: number; content_hash: string }>;
  version(version: number): Promise<VersionRecord | undefined>;
  current(): Promise<VersionRecord>;
  list(): Promise<VersionSummary[]>;
  create(principles: readonly Principle[], note: string, createdBy: string | null): Promise<VersionRecord>;
}

interface Row {
  version: number;
  content_hash: string;
  principles: Principle[];
  note: string;
  created_by: string | null;
  created_at: Date;
}

const COLUMNS = "version, content_hash, principles, note, created_by, created_at";

function toRecord(row: Row): VersionRecord {
  return { ...row, created_at: new Date(row.created_at).toISOString() };
}

export function createConstitutionStore(database: Database): ConstitutionStore {
  let preparing: Promise<void> | undefined;
  const ready = () => {
    preparing ??= (async () => {
      await migrate(database, "constitutional-ai", MIGRATIONS);
      // Idempotent: every replica may run it; only the first start of the database seeds.
      await database.query(
        `INSERT INTO constitution_versions (version, content_hash, principles, note, created_by)
         VALUES (1, $1, $2, 'default constitution', 'seed') ON CONFLICT (version) DO NOTHING`,
        [contentHash(DEFAULT_PRINCIPLES), JSON.stringify(DEFAULT_PRINCIPLES)],
      );
    })().catch((error) => {
      preparing = undefined;
      throw error;
    });
    return preparing;
  };

  const one = async (where: string, params: unknown[]) => {
    await ready();
    const { rows } = await database.query<Row>(`SELECT ${COLUMNS} FROM constitution_versions ${where}`, params);
    return rows[0] ? toRecord(rows[0]) : undefined;
  };

  return {
    ready,
    async currentHead() {
      await ready();
      const { rows } = await database.query<{ version: number; content_hash: string }>(
        "SELECT version, content_hash FROM constitution_versions ORDER BY version DESC LIMIT 1",
      );
      return rows[0];
    },
    version: (version) => one("WHERE version = $1", [version]),
    current: async () => (await one("ORDER BY version DESC LIMIT 1", []))!,
    async list() {
      await ready();
      const { rows } = await database.query<Omit<Row, "principles"> & { principle_count: number }>(
        `SELECT version, content_hash, jsonb_array_length(principles) AS principle_count, note, created_by, created_at
         FROM constitution_versions ORDER BY version`,
      );
      return rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
    },
    async create(principles, note, createdBy) {
      await ready();
      return database.transaction(async (tx) => {
        // Serializes concurrent creations, so each gets the next number instead of a key conflict.
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('acgs-constitution-version'))");
        const { rows } = await tx.query<Row>(
          `INSERT INTO constitution_versions (version, content_hash, principles, note, created_by)
           SELECT COALESCE(max(version), 0) + 1, $1, $2, $3, $4 FROM constitution_versions
           RETURNING ${COLUMNS}`,
          [contentHash(principles), JSON.stringify(principles), note, createdBy],
        );
        return toRecord(rows[0]);
      });
    },
  };
}
