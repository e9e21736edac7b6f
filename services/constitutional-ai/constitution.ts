// A constitution: an ordered list of principles, each violated when its condition holds for the
// request being judged. Its content hash (SHA-256 of the canonical principles) names exactly
// what a verdict was judged against.
import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../decision-cache/canonical-json";
import { compileCondition, conditionSchema, type Predicate } from "./condition";

export const principleSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be kebab-case, e.g. no-secret-exfiltration"),
  title: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  /** The principle is violated when this holds. */
  violated_when: conditionSchema,
  /** Said to the caller when it is violated. */
  reason: z.string().min(1).max(500),
});

export type Principle = z.output<typeof principleSchema>;

export const principlesSchema = z
  .array(principleSchema)
  .min(1, "a constitution needs at least one principle")
  .max(200)
  .superRefine((principles, ctx) => {
    const seen = new Set<string>();
    principles.forEach((p, index) => {
      if (seen.has(p.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate principle id "${p.id}"` });
      seen.add(p.id);
    });
  });

export interface Violation {
  readonly principle_id: string;
  readonly title: string;
  readonly reason: string;
}

export interface ConstitutionVersion {
  readonly version: number;
  readonly content_hash: string;
  readonly principles: readonly Principle[];
}

export interface CompiledConstitution extends ConstitutionVersion {
  /** The principles `document` violates, in constitution order. */
  judge(document: unknown): Violation[];
}

export function contentHash(principles: readonly Principle[]): string {
  return createHash("sha256").update(canonicalJson(principles)).digest("hex");
}

export function compileConstitution(version: ConstitutionVersion): CompiledConstitution {
  const checks: { principle: Principle; violated: Predicate }[] = version.principles.map((principle) => ({
    principle,
    violated: compileCondition(principle.violated_when),
  }));
  return {
    ...version,
    judge: (document) =>
      checks
        .filter((c) => c.violated(document))
        .map(({ principle }) => ({ principle_id: principle.id, title: principle.title, reason: principle.reason })),
  };
}
