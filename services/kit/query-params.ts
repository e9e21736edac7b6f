// Validates a request's query string against a zod schema, answering 400 with the same shape as
// jsonBody (`fields` naming each bad parameter), so a bad `limit` never reaches SQL.
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { FieldProblem } from "./json-body";

/** Route middleware: the handler reads the parsed, typed parameters with `c.req.valid("query")`. */
export function queryParams<T extends z.ZodType>(
  schema: T,
): MiddlewareHandler<any, string, { in: { query: Record<string, string> }; out: { query: z.output<T> } }> {
  return async (c, next) => {
    const result = schema.safeParse(c.req.query());
    if (!result.success) {
      const fields: FieldProblem[] = result.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(query)",
        message: issue.message,
      }));
      return c.json({ error: "invalid query parameters", fields }, 400);
    }
    c.req.addValidatedData("query", result.data as object);
    return next();
  };
}
