// A seeded genetic algorithm over real-valued parameters: elitism, tournament selection, blend
// crossover and clamped normal mutation. Every random draw comes from one mulberry32 stream in a
// fixed order, so the same seed and inputs give the same search, step for step. It yields to the
// event loop every SLICE_MS of work or so, so the service keeps answering.
import type { Fitness, ParameterRange } from "./decision-fitness";
import { mulberry32 } from "./mulberry32";

export interface SearchOptions {
  readonly seed: number;
  /** Generations evaluated, the random first one included. */
  readonly generations: number;
  readonly population: number;
  readonly parameters: readonly ParameterRange[];
}

export interface Candidate {
  readonly values: readonly number[];
  readonly fitness: number;
  /** The generation it was first found in (1-based). */
  readonly generation: number;
}

export interface GenerationSummary {
  readonly generation: number;
  /** Best fitness within this generation. */
  readonly best: number;
  readonly mean: number;
}

export interface SearchResult {
  readonly best: Candidate;
  readonly history: readonly GenerationSummary[];
}

const TOURNAMENT = 3;
const BLEND = 0.25; // BLX-0.25: children may land a little outside their parents' interval
const MUTATION_SCALE = 0.1; // of each parameter's range
const SLICE_MS = 10;
const CLOCK_EVERY = 8; // an evaluation takes under 1 ms (10,000 decisions, 32 parameters): a slice overruns by under 8 ms
const SQRT_3 = Math.sqrt(3);

// Plain loops rather than Array.from/map with closures: a small search (the inline kind) costs a
// third as much, and the arithmetic and the order of the random draws are the same.
export async function evolutionarySearch(
  options: SearchOptions,
  fitness: Fitness,
  onGeneration?: (generation: number, best: Candidate) => void,
): Promise<SearchResult> {
  const { seed, generations, population, parameters } = options;
  const random = mulberry32(seed);
  const size = parameters.length;
  const mins = parameters.map((p) => p.min);
  const maxs = parameters.map((p) => p.max);
  const spans = parameters.map((p) => p.max - p.min);
  const mutationRate = Math.max(1 / size, 0.1);
  const elites = Math.max(1, Math.floor(population / 20));

  let genomes: number[][] = [];
  for (let k = 0; k < population; k++) {
    const genome: number[] = [];
    for (let i = 0; i < size; i++) genome.push(mins[i] + random() * spans[i]);
    genomes.push(genome);
  }
  let best: Candidate | undefined;
  const history: GenerationSummary[] = [];
  let sliceStart = performance.now();

  for (let generation = 1; ; generation++) {
    const scores: number[] = [];
    for (let k = 0; k < population; k++) {
      scores.push(fitness(genomes[k]));
      // The clock every CLOCK_EVERY evaluations: reading it costs more than a small evaluation.
      if (k % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() - sliceStart > SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    // Best first; equal fitness keeps the earlier genome (as a stable sort would).
    const ranked: number[] = [];
    for (let k = 0; k < population; k++) ranked.push(k);
    ranked.sort((a, b) => scores[b] - scores[a] || a - b);
    const top = ranked[0];
    if (best === undefined || scores[top] > best.fitness) best = { values: genomes[top], fitness: scores[top], generation };
    let sum = 0;
    for (let k = 0; k < population; k++) sum += scores[k];
    history.push({ generation, best: scores[top], mean: sum / population });
    onGeneration?.(generation, best);
    if (generation === generations) return { best, history };

    const next: number[][] = [];
    for (let k = 0; k < elites; k++) next.push(genomes[ranked[k]]);
    while (next.length < population) {
      const a = genomes[ranked[tournament(random, population, scores, ranked)]];
      const b = genomes[ranked[tournament(random, population, scores, ranked)]];
      const child: number[] = [];
      for (let i = 0; i < size; i++) {
        let gene = a[i] + (-BLEND + random() * (1 + 2 * BLEND)) * (b[i] - a[i]);
        // Sum of four uniforms: close to normal, and exact arithmetic (no log/cos whose last bit may vary).
        if (random() < mutationRate) gene += (random() + random() + random() + random() - 2) * SQRT_3 * MUTATION_SCALE * spans[i];
        child.push(Math.min(maxs[i], Math.max(mins[i], gene)));
      }
      next.push(child);
    }
    genomes = next;
    // Between generations too, the event loop gets its turn only once a slice is used up: a small
    // search then answers in one go instead of waiting behind other work once per generation.
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/** The rank (index into `ranked`) of the fittest of TOURNAMENT ranks drawn at random. */
function tournament(random: () => number, population: number, scores: readonly number[], ranked: readonly number[]): number {
  let winner = Math.floor(random() * population);
  for (let k = 1; k < TOURNAMENT; k++) {
    const rival = Math.floor(random() * population);
    if (scores[ranked[rival]] > scores[ranked[winner]]) winner = rival;
  }
  return winner;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
