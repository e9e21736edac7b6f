// What an audit entry may hold: only what PostgreSQL stores exactly as the chain hashed it. Text
// with NUL cannot be stored; text with an unpaired surrogate would be stored as U+FFFD (pg encodes
// to UTF-8), so the entry would verify as tampered; and since appends are committed in batches,
// an entry that fails in SQL would fail the appends batched with it. Each is a 400 naming the field.
import { z } from "zod";

/** Deeper details are refused: PostgreSQL's jsonb parser and the hashing both recurse. */
export const MAX_DETAILS_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored exactly, or undefined. */
function textProblem(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain NUL characters";
  if (LONE_SURROGATE.test(text)) return "must not contain unpaired surrogates (not valid Unicode)";
  return undefined;
}

interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** The first value (or key) under `value` that cannot be stored exactly, with its path. */
function detailsProblem(value: unknown, path: (string | number)[]): Problem | undefined {
  if (typeof value === "string") {
    const message = textProblem(value);
    return message === undefined ? undefined : { path, message };
  }
  if (typeof value === "number") return Number.isFinite(value) ? undefined : { path, message: "must be a finite number" };
  if (value === null || typeof value === "boolean") return undefined;
  if (typeof value !== "object") return { path, message: "must be JSON" };
  if (path.length >= MAX_DETAILS_DEPTH) return { path, message: `must not nest deeper than ${MAX_DETAILS_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = detailsProblem(value[i], [...path, i]);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const [key, member] of Object.entries(value)) {
    const keyMessage = textProblem(key);
    if (keyMessage !== undefined) return { path: [...path, key], message: `key ${keyMessage}` };
    const problem = detailsProblem(member, [...path, key]);
    if (problem) return problem;
  }
  return undefined;
}

const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      const message = textProblem(text);
      if (message !== undefined) ctx.addIssue({ code: "custom", message });
    });

// Strict: a field the log would silently drop is a field the caller believes was recorded.
export const auditEntrySchema = z.strictObject({
  actor: label(200),
  action: label(200),
  decision: label(100),
  details: z
    .record(z.string(), z.unknown())
    .superRefine((details, ctx) => {
      const problem = detailsProblem(details, []);
      if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
    })
    .default({}),
});
