// Reports are kept per rule list: the same text as verifying afresh, one verification per distinct
// list (however its keys are ordered), bounded in entries and in the size of what it keeps.
import { createVerdictCache } from "../../../services/formal-verification/verdict-cache";
import { verifyRules } from "../../../services/formal-verification/verify-rules";
import { policyRulesSchema, type PolicyRule } from "../../../services/policy-model/policy-rule";

const parse = (body: string): PolicyRule[] => policyRulesSchema.parse(JSON.parse(body));

describe("verdict cache", () => {
  const counting = () => {
    const calls: number[] = [];
    const cache = createVerdictCache(2, (rules) => {
      calls.push(rules.length);
      return verifyRules(rules);
    });
    return { cache, calls };
  };
  const conflicting = parse('[{"id":"a","effect":"allow","action":"read"},{"id":"b","effect":"deny","action":["read"]}]');
  const clean = parse('[{"id":"a","effect":"allow","action":"read"}]');

  it("answers the report verifyRules gives, as JSON text", () => {
    const { cache } = counting();
    for (const rules of [conflicting, clean]) expect(JSON.parse(cache.reportJson(rules))).toEqual(verifyRules(rules));
    expect(JSON.parse(cache.reportJson(conflicting)).contradictions).toHaveLength(1);
  });

  it("verifies a list once, also when it comes again with its keys in another order", () => {
    const { cache, calls } = counting();
    const first = cache.reportJson(parse('[{"id":"a","effect":"deny","priority":2,"resource":{"none_of":["x"],"any_of":["repo:*"]}}]'));
    const again = cache.reportJson(parse('[{"resource":{"any_of":["repo:*"],"none_of":["x"]},"priority":2,"effect":"deny","id":"a"}]'));
    expect(again).toBe(first);
    expect(calls).toEqual([1]);
    // A different list is a different entry.
    cache.reportJson(parse('[{"id":"a","effect":"allow","priority":2,"resource":{"any_of":["repo:*"],"none_of":["x"]}}]'));
    expect(calls).toEqual([1, 1]);
  });

  it("keeps at most its bound of lists, the oldest leaving first", () => {
    const { cache, calls } = counting();
    cache.reportJson(conflicting);
    cache.reportJson(clean);
    cache.reportJson(parse('[{"id":"z","effect":"deny"}]'));
    expect(calls).toEqual([2, 1, 1]);
    cache.reportJson(clean); // still kept
    cache.reportJson(conflicting); // evicted by the third
    expect(calls).toEqual([2, 1, 1, 2]);
  });

  it("does not keep a list whose text is larger than its key limit", () => {
    const { cache, calls } = counting();
    const big = Array.from({ length: 400 }, (_, i) => ({ id: `rule-${i}`, effect: "allow", action: `act-${i}` }));
    const rules = parse(JSON.stringify(big));
    expect(JSON.stringify(rules).length).toBeGreaterThan(16_384);
    cache.reportJson(rules);
    cache.reportJson(rules);
    expect(calls).toEqual([400, 400]);
  });

  it("finds a frozen list's report by the list itself, even once its keyed entry is gone", () => {
    const { cache, calls } = counting();
    const kept = Object.freeze(parse('[{"id":"k","effect":"allow","subject":"agent:*"}]'));
    const report = cache.reportJson(kept);
    cache.reportJson(conflicting);
    cache.reportJson(clean); // the keyed entry of `kept` is evicted (bound 2)
    expect(cache.reportJson(kept)).toBe(report);
    expect(calls).toEqual([1, 2, 1]);
    // An unfrozen list with the same rules was evicted by key: verified again.
    cache.reportJson(parse('[{"id":"k","effect":"allow","subject":"agent:*"}]'));
    expect(calls).toEqual([1, 2, 1, 1]);
  });

  it("does not take an unfrozen list by identity: changed in place, it gets its new report", () => {
    const { cache } = counting();
    const rules = parse('[{"id":"a","effect":"allow","action":"read"},{"id":"b","effect":"allow","action":"read"}]');
    expect(JSON.parse(cache.reportJson(rules)).contradictions).toHaveLength(0);
    (rules[1] as { effect: string }).effect = "deny";
    expect(JSON.parse(cache.reportJson(rules)).contradictions).toHaveLength(1);
  });
});
