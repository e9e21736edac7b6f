// A cache key for a normalized request: the text itself when short (hashing costs more than the
// lookup it keys), its SHA-256 when long, so keys stay small. The prefixes keep the two apart.
import { createHash } from "node:crypto";

const SHORT = 256;

export function requestKey(normalized: string): string {
  return normalized.length <= SHORT ? `t:${normalized}` : `h:${createHash("sha256").update(normalized).digest("base64url")}`;
}
