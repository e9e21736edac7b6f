// Parses and validates a JSON request body against a zod schema, so that bad input always gets a
// 4xx naming the problem (and the field) instead of reaching the handler or becoming a 500.
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { createRememberedBodies } from "./remembered-bodies";
import { readBodyText } from "./request-body";
import { requestHeader } from "./request-header";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

export interface FieldProblem {
  /** Dotted path into the body, e.g. "agents.0.id"; "(root)" for the body itself. */
  readonly path: string;
  readonly message: string;
}

export interface JsonBodyOptions {
  /**
   * Keep the validated value of up to this many distinct body texts: the same text again skips
   * JSON.parse and the schema and gets the same value, deep-frozen and shared by every request with
   * that text. Only for schemas whose output depends on the text alone (no clock, no random ids),
   * and handlers that do not change the value. Refused bodies are never kept: each gets its 400.
   */
  readonly remember?: number;
}

/** Route middleware: the handler reads the parsed, typed body with `c.req.valid("json")`. */
export function jsonBody<T extends z.ZodType>(
  schema: T,
  options: JsonBodyOptions = {},
): MiddlewareHandler<any, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }> {
  const remembered = options.remember === undefined ? undefined : createRememberedBodies(options.remember);
  return async (c, next) => {
    const contentType = requestHeader(c, "content-type");
    if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
      return c.json({ error: "unsupported content type", expected: "application/json", received: contentType }, 415);
    }
    const text = await readBodyText(c);
    const known = remembered?.get(text);
    if (known !== undefined) {
      c.req.addValidatedData("json", known as object);
      return next();
    }
    if (text.trim() === "") return c.json({ error: "malformed JSON body", detail: "the body is empty" }, 400);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return c.json({ error: "malformed JSON body", detail: (error as Error).message }, 400);
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      const fields: FieldProblem[] = result.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)",
        message: issue.message,
      }));
      return c.json({ error: "invalid request body", fields }, 400);
    }
    remembered?.set(text, result.data);
    c.req.addValidatedData("json", result.data as object);
    return next();
  };
}
