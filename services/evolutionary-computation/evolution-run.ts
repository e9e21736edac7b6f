// One evolutionary search over recorded decisions, from the request to the answer both the inline
// and the background paths return: the same code either way, so a job's result equals the one an
// inline run of the same request gives.
import { decisionFitness, type Objective, type ParameterRange } from "./decision-fitness";
import type { DecisionSet } from "./decision-source";
import { evolutionarySearch, type Candidate, type GenerationSummary } from "./evolutionary-search";

export interface EvolveRequest {
  readonly seed: number;
  readonly generations: number;
  readonly population: number;
  readonly parameters: readonly ParameterRange[];
  readonly objective: Objective;
}

export interface BestCandidate {
  readonly parameters: Readonly<Record<string, number>>;
  readonly fitness: number;
  readonly generation: number;
}

export interface EvolveResult {
  readonly seed: number;
  readonly generations: number;
  readonly population: number;
  readonly objective: Objective;
  readonly decisions: DecisionSet["summary"];
  readonly best: BestCandidate;
  readonly history: readonly GenerationSummary[];
}

export function named(parameters: readonly ParameterRange[], candidate: Candidate): BestCandidate {
  return {
    parameters: Object.fromEntries(parameters.map((p, i) => [p.name, candidate.values[i]])),
    fitness: candidate.fitness,
    generation: candidate.generation,
  };
}

export async function runEvolution(
  request: EvolveRequest,
  source: DecisionSet,
  onGeneration?: (generation: number, best: BestCandidate) => void,
): Promise<EvolveResult> {
  const { seed, generations, population, parameters, objective } = request;
  const fitness = decisionFitness(parameters, source, objective);
  const { best, history } = await evolutionarySearch(
    { seed, generations, population, parameters },
    fitness,
    onGeneration && ((generation, candidate) => onGeneration(generation, named(parameters, candidate))),
  );
  return { seed, generations, population, objective, decisions: source.summary, best: named(parameters, best), history };
}
