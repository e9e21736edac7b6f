// The deterministic condition language of the constitution's principles: tests on fields of the
// request being judged (dotted paths such as "action.risk_level"), combined with all/any/not.
// Conditions are data (kept in PostgreSQL with each version) and compiled once per version.
import { z } from "zod";

type Scalar = string | number | boolean;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: "exists" | "missing" }
  | { field: string; op: "eq" | "ne"; value?: Scalar; value_from?: string }
  | { field: string; op: "in" | "not_in"; value: Scalar[] }
  | { field: string; op: "matches" | "has_key_matching"; value: string }
  | { field: string; op: "starts_with"; value?: string | string[]; value_from?: string }
  | { field: string; op: "contains"; value: Scalar };

const path = z
  .string()
  .regex(/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/, 'must be a dotted field path such as "action.risk_level"');
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const regex = z
  .string()
  .max(200, "must be at most 200 characters")
  .refine((source) => {
    try {
      new RegExp(source, "i");
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression");
const oneOfValueOrFrom = (c: { value?: unknown; value_from?: string }) => (c.value === undefined) !== (c.value_from === undefined);
const valueOrFrom = { message: "needs exactly one of value and value_from", path: ["value"] };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union(
    [
      z.strictObject({ all: z.array(conditionSchema).min(1) }),
      z.strictObject({ any: z.array(conditionSchema).min(1) }),
      z.strictObject({ not: conditionSchema }),
      z.strictObject({ field: path, op: z.enum(["exists", "missing"]) }),
      z.strictObject({ field: path, op: z.enum(["eq", "ne"]), value: scalar.optional(), value_from: path.optional() }).refine(oneOfValueOrFrom, valueOrFrom),
      z.strictObject({ field: path, op: z.enum(["in", "not_in"]), value: z.array(scalar).min(1) }),
      z.strictObject({ field: path, op: z.enum(["matches", "has_key_matching"]), value: regex }),
      z
        .strictObject({ field: path, op: z.literal("starts_with"), value: z.union([z.string(), z.array(z.string()).min(1)]).optional(), value_from: path.optional() })
        .refine(oneOfValueOrFrom, valueOrFrom),
      z.strictObject({ field: path, op: z.literal("contains"), value: scalar }),
    ],
    { error: "must be {all}, {any}, {not} or {field, op, value} with a known op" },
  ),
) as z.ZodType<Condition>;

export type Predicate = (document: unknown) => boolean;

export function readPath(document: unknown, dotted: string): unknown {
  let value: unknown = document;
  for (const key of dotted.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Absent, null and the empty string all count as missing: `"approved_by": ""` approves nothing. */
function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

function hasKeyMatching(value: unknown, pattern: RegExp, depth = 0): boolean {
  if (value === null || typeof value !== "object" || depth > 16) return false;
  if (Array.isArray(value)) return value.some((v) => hasKeyMatching(v, pattern, depth + 1));
  return Object.entries(value).some(([k, v]) => pattern.test(k) || hasKeyMatching(v, pattern, depth + 1));
}

export function compileCondition(condition: Condition): Predicate {
  if ("all" in condition) {
    const parts = condition.all.map(compileCondition);
    return (d) => parts.every((p) => p(d));
  }
  if ("any" in condition) {
    const parts = condition.any.map(compileCondition);
    return (d) => parts.some((p) => p(d));
  }
  if ("not" in condition) {
    const inner = compileCondition(condition.not);
    return (d) => !inner(d);
  }
  const field = condition.field;
  const get = (d: unknown) => readPath(d, field);
  switch (condition.op) {
    case "exists":
      return (d) => !isMissing(get(d));
    case "missing":
      return (d) => isMissing(get(d));
    case "eq":
    case "ne": {
      const { value, value_from: from } = condition;
      const equal = (d: unknown) => {
        const expected = from === undefined ? value : readPath(d, from);
        return !isMissing(expected) && get(d) === expected;
      };
      return condition.op === "eq" ? equal : (d) => !equal(d);
    }
    case "in":
    case "not_in": {
      const set = new Set<unknown>(condition.value);
      return condition.op === "in" ? (d) => set.has(get(d)) : (d) => !set.has(get(d));
    }
    case "matches": {
      const pattern = new RegExp(condition.value, "i");
      return (d) => {
        const v = get(d);
        return typeof v === "string" && pattern.test(v);
      };
    }
    case "has_key_matching": {
      const pattern = new RegExp(condition.value, "i");
      return (d) => hasKeyMatching(get(d), pattern);
    }
    case "starts_with": {
      const { value, value_from: from } = condition;
      return (d) => {
        const v = get(d);
        const prefixes = from === undefined ? value : readPath(d, from);
        const list = typeof prefixes === "string" ? [prefixes] : Array.isArray(prefixes) ? prefixes : [];
        return typeof v === "string" && list.some((p) => typeof p === "string" && p !== "" && v.startsWith(p));
      };
    }
    case "contains": {
      const wanted = condition.value;
      return (d) => {
        const v = get(d);
        return Array.isArray(v) ? v.includes(wanted) : typeof v === "string" && typeof wanted === "string" && v.includes(wanted);
      };
    }
  }
}
