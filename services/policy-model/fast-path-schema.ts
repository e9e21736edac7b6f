// A zod schema with a hand-written parser tried first: the parser answers the input it is sure
// is valid, the full schema everything else, so refusals keep zod's paths and messages exactly.
import { z } from "zod";

export function withFastPath<S extends z.ZodType>(schema: S, fast: (value: unknown) => z.output<S> | undefined) {
  return z.unknown().transform((value, ctx): z.output<S> => {
    const quick = fast(value);
    if (quick !== undefined) return quick;
    const checked = schema.safeParse(value);
    if (checked.success) return checked.data;
    // Paths stay relative to this schema: an enclosing object prefixes its key, as for any child.
    for (const issue of checked.error.issues) ctx.issues.push(issue as (typeof ctx.issues)[number]);
    return z.NEVER;
  });
}
