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
});
