// Verification is pure: the same rule list always gets the same report. So reports are kept, as
// the JSON text sent, keyed by the parsed list's JSON (parsing fixes the key order, so lists that
// differ only in key order or whitespace share an entry). Bounded in count and in key size.
// A frozen list (jsonBody's remembered value for a body text seen before) also finds its report by
// identity, without building the key again.
import { createLocalTier } from "../kit/local-tier";
import type { PolicyRule } from "../policy-model/policy-rule";
import { verifyRules } from "./verify-rules";

const MAX_ENTRIES = 1000;
const MAX_KEY_LENGTH = 16_384;
// Only bounds memory: a report never goes stale.
const TTL_SECONDS = 3600;

export interface VerdictCache {
  /** verifyRules' report as JSON text. */
  reportJson(rules: readonly PolicyRule[]): string;
}

export function createVerdictCache(maxEntries = MAX_ENTRIES, verify: typeof verifyRules = verifyRules): VerdictCache {
  const reports = createLocalTier<string>(maxEntries);
  // A frozen list is taken as deep-frozen (as jsonBody's remembered values are): it cannot change,
  // so its report can hang on the list itself, held only while the list is.
  const byFrozenList = new WeakMap<readonly PolicyRule[], string>();
  return {
    reportJson(rules) {
      const frozen = Object.isFrozen(rules);
      if (frozen) {
        const same = byFrozenList.get(rules);
        if (same !== undefined) return same;
      }
      const key = JSON.stringify(rules);
      let report = reports.get(key);
      if (report === undefined) {
        report = JSON.stringify(verify(rules));
        if (key.length <= MAX_KEY_LENGTH) reports.set(key, report, TTL_SECONDS);
      }
      if (frozen) byFrozenList.set(rules, report);
      return report;
    },
  };
}
