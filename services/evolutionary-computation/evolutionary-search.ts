// A seeded genetic algorithm over real-valued parameters: elitism, tournament selection, blend
// crossover and clamped normal mutation. Every random draw comes from one mulberry32 stream in a
// fixed order, so the same seed and inputs give the same search, step for step. It yields to the
// event loop between generations (and within one that runs long), so the service keeps answering.
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

export async function evolutionarySearch(
  options: SearchOptions,
  fitness: Fitness,
  onGeneration?: (generation: number, best: Candidate) => void,
): Promise<SearchResult> {
  const { seed, generations, population, parameters } = options;
  const random = mulberry32(seed);
  const mutationRate = Math.max(1 / parameters.length, 0.1);
  const elites = Math.max(1, Math.floor(population / 20));
  const clamp = (value: number, i: number) => Math.min(parameters[i].max, Math.max(parameters[i].min, value));
  // Sum of four uniforms: close to normal, and exact arithmetic (no log/cos whose last bit may vary).
  const normal = () => (random() + random() + random() + random() - 2) * Math.sqrt(3);

  let genomes: number[][] = Array.from({ length: population }, () => parameters.map((p) => p.min + random() * (p.max - p.min)));
  let best: Candidate | undefined;
  const history: GenerationSummary[] = [];
  let sliceStart = performance.now();

  for (let generation = 1; ; generation++) {
    const scores: number[] = [];
    for (const genome of genomes) {
      scores.push(fitness(genome));
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    // Best first; equal fitness keeps the earlier genome (Array.prototype.sort is stable).
    const ranked = genomes.map((genome, i) => ({ genome, fitness: scores[i] })).sort((a, b) => b.fitness - a.fitness);
    if (best === undefined || ranked[0].fitness > best.fitness) best = { values: ranked[0].genome, fitness: ranked[0].fitness, generation };
    history.push({ generation, best: ranked[0].fitness, mean: scores.reduce((s, f) => s + f, 0) / scores.length });
    onGeneration?.(generation, best);
    if (generation === generations) return { best, history };

    const pick = () => {
      let winner = Math.floor(random() * population);
      for (let k = 1; k < TOURNAMENT; k++) {
        const rival = Math.floor(random() * population);
        if (ranked[rival].fitness > ranked[winner].fitness) winner = rival;
      }
      return ranked[winner].genome;
    };
    const next = ranked.slice(0, elites).map((r) => r.genome);
    while (next.length < population) {
      const [a, b] = [pick(), pick()];
      next.push(
        a.map((gene, i) => {
          let child = gene + (-BLEND + random() * (1 + 2 * BLEND)) * (b[i] - gene);
          if (random() < mutationRate) child += normal() * MUTATION_SCALE * (parameters[i].max - parameters[i].min);
          return clamp(child, i);
        }),
      );
    }
    genomes = next;
    await nextTurn();
    sliceStart = performance.now();
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
