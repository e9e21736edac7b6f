// The hand-written rule parser against the zod schema it mirrors, on seeded generated lists (as
// JSON bodies bring them): it accepts exactly what zod accepts, with zod's output to the key
// order; and behind policyRulesSchema every refusal is zod's own, path and message.
import { mulberry32 } from "../../../services/evolutionary-computation/mulberry32";
import { parseRulesFast } from "../../../services/policy-model/parse-rules-fast";
import { policyRuleListSchema, policyRulesSchema } from "../../../services/policy-model/policy-rule";


function generator(seed: number) {
  const next = mulberry32(seed);
  const pick = (...options: unknown[]): unknown => options[Math.floor(next() * options.length)];
  const pickOne = <T>(options: readonly T[]): T => options[Math.floor(next() * options.length)];
  const chance = (p: number) => next() < p;
  // Mostly valid parts, each with a small chance of one of the ways it can be wrong.
  const pattern = (): unknown =>
    chance(0.93) ? pick("agent:*", "repo:acme/api", "read", "*", "db:prod/*", "a") : pick("", "a*b", "**", "x".repeat(257), 7, null, "x".repeat(256));
  const patterns = (min: number, max: number): unknown[] => Array.from({ length: min + Math.floor(next() * (max - min + 1)) }, pattern);
  const condition = (): unknown => {
    if (chance(0.03)) return pick(5, true, null, {}, { any_of: "x" }, { other: ["a"] }, patterns(101, 101));
    return pickOne([
      () => pattern(),
      () => patterns(chance(0.05) ? 0 : 1, 3),
      () => ({ any_of: patterns(0, 2) }),
      () => ({ none_of: patterns(0, 2) }),
      () => ({ any_of: patterns(0, 2), none_of: patterns(0, 2) }),
      () => (chance(0.5) ? { none_of: patterns(1, 1), any_of: patterns(1, 2) } : { any_of: patterns(chance(0.1) ? 101 : 100, 100) }),
    ])();
  };
  const rule = (i: number): unknown => {
    if (chance(0.01)) return pick("rule", null, [], 3);
    const r: Record<string, unknown> = {};
    // Keys in a random order: the output must still follow the schema's.
    const keys = ["id", "effect", "priority", "description", "subject", "action", "resource"].sort(() => next() - 0.5);
    for (const key of keys) {
      switch (key) {
        case "id":
          if (chance(0.98)) r.id = chance(0.97) ? `rule-${chance(0.05) ? 0 : i}.x:y_z` : pick("", "bad id", "x".repeat(129), 12, "é");
          break;
        case "effect":
          if (chance(0.98)) r.effect = chance(0.97) ? pick("allow", "deny") : pick("permit", "Allow", null);
          break;
        case "priority":
          if (chance(0.5)) r.priority = chance(0.95) ? pick(0, 10, -5, 1_000_000, -1_000_000) : pick(1.5, 1_000_001, "3", -1_000_001, null);
          break;
        case "description":
          if (chance(0.2)) r.description = chance(0.95) ? pick("", "why", "x".repeat(1000)) : pick("x".repeat(1001), 4);
          break;
        default:
          if (chance(0.6)) r[key] = condition();
      }
    }
    if (chance(0.01)) r[pickOne(["subjects", "extra", "__proto__"])] = "x";
    return r;
  };
  return (): unknown => {
    if (chance(0.01)) return pick("rules", null, {}, 4);
    return Array.from({ length: Math.floor(next() * 6) }, (_, i) => rule(i));
  };
}

const issues = (error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }) => error.issues.map((i) => [i.path.map(String).join("."), i.message]);

describe("parseRulesFast", () => {
  const generate = generator(20260523);
  // Through JSON, as a request body arrives (and with "__proto__" as an own key, as JSON.parse makes it).
  const lists = Array.from({ length: 3000 }, () => JSON.parse(JSON.stringify(generate()).replace(/"extra":/g, '"__proto__":')));

  it("accepts exactly what the zod schema accepts, with the same output in the same key order", () => {
    let valid = 0;
    for (const list of lists) {
      const reference = policyRuleListSchema.safeParse(list);
      const fast = parseRulesFast(list);
      if (reference.success) valid++;
      expect({ list, fast: fast === undefined ? "refused" : JSON.stringify(fast) }).toEqual({
        list,
        fast: reference.success ? JSON.stringify(reference.data) : "refused",
      });
    }
    // Both kinds are well represented, so both directions were tested.
    expect(valid).toBeGreaterThan(lists.length * 0.2);
    expect(valid).toBeLessThan(lists.length * 0.8);
  });

  it("leaves every refusal to zod: the same paths and messages behind policyRulesSchema", () => {
    for (const list of lists) {
      const reference = policyRuleListSchema.safeParse(list);
      const checked = policyRulesSchema.safeParse(list);
      expect(checked.success).toBe(reference.success);
      if (!reference.success && !checked.success) expect(issues(checked.error)).toEqual(issues(reference.error));
      if (reference.success && checked.success) expect(checked.data).toEqual(reference.data);
    }
  });

  it("copies what it returns: changing the input afterwards does not change the parsed rules", () => {
    const input = [{ id: "r", effect: "allow", subject: ["agent:a"], resource: { any_of: ["repo:*"] } }];
    const parsed = parseRulesFast(input)!;
    input[0].subject.push("agent:b");
    input[0].resource.any_of.push("db:*");
    expect(parsed).toEqual([{ id: "r", effect: "allow", priority: 0, subject: ["agent:a"], resource: { any_of: ["repo:*"] } }]);
  });
});
