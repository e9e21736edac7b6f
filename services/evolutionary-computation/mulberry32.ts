// A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine, which
// Math.random cannot promise. Integer arithmetic only, so the results are exact everywhere.

/** Returns a generator of floats in [0, 1) determined entirely by `seed` (taken as uint32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
