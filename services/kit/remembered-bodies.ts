// The validated values of body texts seen before, for jsonBody's `remember` option: a route that
// gets the same body again and again (a client retrying, a peer asking the same question) skips
// JSON.parse and the schema. Bounded in entries (the oldest leaves first) and in text length.
// Each value is deep-frozen, since every request with that text shares it.

/** Longer texts are not kept: they are rare, and each would hold the text and its value twice. */
export const MAX_REMEMBERED_TEXT_LENGTH = 16_384;

export interface RememberedBodies {
  /** The value a text validated to before, undefined when it is not kept. */
  get(text: string): unknown;
  /** Keeps the value a text validated to (frozen in place), unless the text is too long. */
  set(text: string, value: unknown): void;
}

export function createRememberedBodies(maxEntries: number): RememberedBodies {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`remembered bodies: the bound must be a positive integer, got ${maxEntries}`);
  const values = new Map<string, unknown>();
  return {
    get: (text) => values.get(text),
    set(text, value) {
      if (text.length > MAX_REMEMBERED_TEXT_LENGTH) return;
      // Map keeps insertion order, so the first key is the oldest.
      if (values.size >= maxEntries && !values.has(text)) values.delete(values.keys().next().value as string);
      values.set(text, deepFreeze(value));
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
