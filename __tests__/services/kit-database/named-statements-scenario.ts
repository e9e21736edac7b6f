// One scenario of named (prepared) statements, run against any kit Database: the PostgreSQL test
// runs it in-process, the PGlite test in a child process (fixtures/pglite-named-statements.ts),
// and both expect the same report, so that `{ name }` means the same on either.
import type { Database } from "../../../services/kit/database";

const INSERT = "INSERT INTO notes (id, body, tags, meta) VALUES ($1, $2, $3, $4) RETURNING id";
const AFTER = "SELECT id, body, tags, meta FROM notes WHERE id > $1 ORDER BY id";
const COUNT = "SELECT count(*)::int AS n FROM notes";

const failure = (error: unknown) => ({ code: (error as { code?: string }).code, message: (error as Error).message });

export async function runNamedStatementScenario(db: Database) {
  await db.query("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL, tags text[] NOT NULL, meta jsonb)");
  const insert = (q: Pick<Database, "query">, id: number, meta: string | null = null) =>
    q.query<{ id: number }>(INSERT, [id, `note ${id}`, ["a", `b"${id}`], meta], { name: "notes-insert" });

  const inserted = [];
  for (const id of [1, 2, 3]) inserted.push(await insert(db, id, id === 2 ? '{"k": [1, "x"]}' : null));
  const named = await db.query(AFTER, [1], { name: "notes-after" });
  const unnamed = await db.query(AFTER, [1]);

  const rolledBack = await db
    .transaction(async (tx) => {
      await insert(tx, 4);
      throw new Error("abort");
    })
    .catch((error: Error) => error.message);
  const committed = await db.transaction(async (tx) => (await insert(tx, 5)).rows);

  const renamed = await db.query("SELECT 1", [], { name: "notes-insert" }).catch(failure);
  // Many callers at once before the statement exists: it is parsed once.
  const counts = await Promise.all(Array.from({ length: 20 }, () => db.query<{ n: number }>(COUNT, [], { name: "notes-count" })));
  const prepared = await db.query<{ name: string; statement: string }>("SELECT name, statement FROM pg_prepared_statements ORDER BY name");
  // (A failed query through the pg pool replaces its connection: checked after listing the session's statements.)
  const duplicate = await insert(db, 1).catch(failure);
  const afterFailure = (await insert(db, 6)).rowCount;

  return {
    inserted: inserted.map((r) => ({ rows: r.rows, rowCount: r.rowCount })),
    namedRows: named.rows,
    sameAsUnnamed: JSON.stringify(named.rows) === JSON.stringify(unnamed.rows),
    rowCount: named.rowCount,
    rolledBack,
    committed,
    renamed,
    duplicate: duplicate instanceof Object && "code" in duplicate ? duplicate.code : "no error",
    afterFailure,
    counts: [...new Set(counts.map((c) => c.rows[0].n))],
    prepared: prepared.rows.map((r) => ({ name: r.name, sameText: r.statement === { "notes-insert": INSERT, "notes-after": AFTER, "notes-count": COUNT }[r.name] })),
  };
}

/** What the scenario must report, on PostgreSQL as on PGlite. */
export const EXPECTED_REPORT = {
  inserted: [1, 2, 3].map((id) => ({ rows: [{ id }], rowCount: 1 })),
  namedRows: [
    { id: 2, body: "note 2", tags: ["a", 'b"2'], meta: { k: [1, "x"] } },
    { id: 3, body: "note 3", tags: ["a", 'b"3'], meta: null },
  ],
  sameAsUnnamed: true,
  rowCount: 2,
  rolledBack: "abort",
  committed: [{ id: 5 }],
  renamed: { message: 'statement name "notes-insert" is already used for another text' },
  duplicate: "23505",
  afterFailure: 1,
  counts: [4],
  // Parsed once on the server (one session), each under its name and with its own text.
  prepared: [
    { name: "notes-after", sameText: true },
    { name: "notes-count", sameText: true },
    { name: "notes-insert", sameText: true },
  ],
};
