// Turns a principle written in words, plus the context it applies to, into a draft policy by
// fixed templates: the same principle and context always give the same draft. The template is
// chosen by the principle's wording, the first that fits in this order: approval, restriction,
// prohibition, permission.
import { z } from "zod";
import type { PolicyRule } from "../policy-model/policy-rule";

const pattern = z
  .string()
  .min(1)
  .max(256)
  .refine((p) => !p.slice(0, -1).includes("*"), 'may contain "*" only as its last character (a prefix)');
const patterns = z.array(pattern).min(1).max(50);

export const synthesisContextSchema = z.strictObject({
  /** Policy name; default derived from the principle. */
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w.:-]+$/, "may contain letters, digits, '_', '.', ':' and '-' only")
    .optional(),
  subjects: patterns.optional(),
  actions: patterns.optional(),
  resources: patterns.optional(),
  /** Who may still act under an approval or restriction principle. */
  approvers: patterns.optional(),
  /** Subjects exempt from a prohibition. */
  exceptions: patterns.optional(),
  risk_level: z.enum(["low", "medium", "high", "critical"]).optional(),
  approved_by: z.string().max(128).optional(),
  /** Passed on to constitutional-ai's respect-scope principle. */
  scope: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
});

export type SynthesisContext = z.output<typeof synthesisContextSchema>;

export type Template = "approval" | "restriction" | "prohibition" | "permission";

export interface DraftPolicy {
  readonly name: string;
  readonly description: string;
  readonly template: Template;
  readonly rules: PolicyRule[];
}

/** Why no draft can be made; the route answers 422 naming `field`. */
export class SynthesisError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "SynthesisError";
  }
}

const TEMPLATE_WORDS: readonly [Template, RegExp][] = [
  ["approval", /\b(approv\w*|sign[- ]?off|review(ed)?|oversight)\b/i],
  ["restriction", /\b(only|exclusively|restrict(ed)?|limited to)\b/i],
  ["prohibition", /\b(must not|never|may not|cannot|can't|shall not|prohibit\w*|forbid\w*|disallow\w*|deny|denied|no)\b/i],
  ["permission", /\b(may|can|allow\w*|permit\w*|grant\w*)\b/i],
];

// Verbs a principle may name when the context lists no actions.
const KNOWN_ACTIONS = [
  "approve", "create", "delete", "deploy", "destroy", "drop", "execute", "export", "merge", "modify", "publish", "push",
  "read", "release", "restart", "rollback", "truncate", "update", "upload", "write",
];

function slug(text: string): string {
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return words.slice(0, 6).join("-") || "policy";
}

// Each form a principle may use for a known verb ("deletes", "deleting", "deleted" name "delete"
// too), mapped to the verbs it can be a form of (a form two verbs share names both): one lookup
// per word of the principle.
export function actionForms(verbs: readonly string[]): Map<string, string[]> {
  const forms = new Map<string, string[]>();
  for (const verb of verbs) {
    // A verb ending in one vowel and one consonant may double it: "dropping", "dropped".
    const doubled = /[^aeiou][aeiou][b-df-hj-np-tvz]$/.test(verb) ? [`${verb}${verb.at(-1)}ing`, `${verb}${verb.at(-1)}ed`] : [];
    for (const form of new Set([verb, `${verb}s`, `${verb}d`, `${verb}ed`, `${verb.replace(/e$/, "")}ing`, ...doubled])) {
      const named = forms.get(form);
      if (named === undefined) forms.set(form, [verb]);
      else named.push(verb);
    }
  }
  return forms;
}
const ACTION_FORMS = actionForms(KNOWN_ACTIONS);

function actionsNamed(principle: string): string[] {
  const named = new Set<string>();
  for (const word of principle.toLowerCase().match(/[a-z]+/g) ?? []) {
    for (const verb of ACTION_FORMS.get(word) ?? []) named.add(verb);
  }
  // In KNOWN_ACTIONS order, whatever the principle's word order.
  return KNOWN_ACTIONS.filter((verb) => named.has(verb));
}

export function draftPolicy(principle: string, context: SynthesisContext): DraftPolicy {
  const template = TEMPLATE_WORDS.find(([, words]) => words.test(principle))?.[0];
  if (!template) {
    throw new SynthesisError("principle", "no template fits: say what is required, prohibited, restricted or allowed (e.g. 'must not', 'only', 'needs approval', 'may')");
  }
  const actions = context.actions ?? actionsNamed(principle);
  if (actions.length === 0) {
    throw new SynthesisError("context.actions", `the principle names no known action (${KNOWN_ACTIONS.join(", ")}); list the actions`);
  }
  const name = context.name ?? slug(principle);
  const subject = context.subjects ?? ["*"];
  const resource = context.resources ?? ["*"];
  const rule = (suffix: string, effect: "allow" | "deny", priority: number, subjects: string[], text: string): PolicyRule => ({
    id: `${name}.${suffix}`,
    effect,
    priority,
    subject: subjects,
    action: actions,
    resource,
    description: text,
  });

  let rules: PolicyRule[];
  switch (template) {
    case "approval":
    case "restriction": {
      const allowed = template === "approval" ? (context.approvers ?? ["role:approver"]) : (context.approvers ?? context.subjects);
      if (!allowed) throw new SynthesisError("context.subjects", "a restriction needs the subjects it is restricted to");
      rules = [
        rule("allow-permitted", "allow", 20, allowed, `${template === "approval" ? "approvers" : "the permitted subjects"} may act`),
        // Everyone else is refused, whoever the principle was about.
        rule("deny-others", "deny", 10, template === "approval" ? subject : ["*"], "everyone else is refused"),
      ];
      break;
    }
    case "prohibition":
      rules = [rule("deny", "deny", 10, subject, principle)];
      if (context.exceptions) rules.unshift(rule("allow-exceptions", "allow", 20, context.exceptions, "exempt subjects"));
      break;
    case "permission":
      rules = [rule("allow", "allow", 10, subject, principle)];
      break;
  }
  return { name, description: principle, template, rules };
}

/** True when a rule allows anything to anyone on anything: what least privilege forbids. */
export function allowsEverything(draft: DraftPolicy): boolean {
  const any = (c: unknown) => c === undefined || (Array.isArray(c) && c.includes("*"));
  return draft.rules.some((r) => r.effect === "allow" && any(r.subject) && any(r.action) && any(r.resource));
}
