// Long searches run in the background of the process that accepted them, a few at a time, with
// their progress written to PostgreSQL at most every PROGRESS_INTERVAL_MS (also the heartbeat
// that tells a poller the job is alive) and their result written when they end.
import type { Logger } from "../kit/logger";
import type { DecisionSet } from "./decision-source";
import { runEvolution, type EvolveRequest } from "./evolution-run";
import type { EvolutionStore, Job } from "./store";

const PROGRESS_INTERVAL_MS = 250;
// The result is retried for a while: PostgreSQL restarting must not lose a finished search.
const FINISH_ATTEMPTS = 60;
const FINISH_RETRY_MS = 1000;

export interface EvolutionJobs {
  running(): number;
  /** Records the job and starts it; undefined when this process already runs its limit. */
  start(request: EvolveRequest, source: DecisionSet): Promise<Job | undefined>;
}

export function createEvolutionJobs(store: EvolutionStore, logger: Logger, maxRunning: number): EvolutionJobs {
  let running = 0;

  const finish = async (id: string, outcome: { result: unknown } | { error: string }) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.finish(id, outcome);
        return;
      } catch (error) {
        if (attempt >= FINISH_ATTEMPTS) {
          logger.error("evolution job outcome lost", { jobId: id, error: (error as Error).message });
          return;
        }
        // unref: a retry must not keep a stopping process alive.
        await new Promise((resolve) => setTimeout(resolve, FINISH_RETRY_MS).unref());
      }
    }
  };

  const run = async (id: string, request: EvolveRequest, source: DecisionSet) => {
    let lastWrite = 0;
    let writing: Promise<void> | undefined;
    try {
      const result = await runEvolution(request, source, (generation, best) => {
        const now = performance.now();
        if (writing !== undefined || now - lastWrite < PROGRESS_INTERVAL_MS) return;
        lastWrite = now;
        writing = store
          .progress(id, generation, best)
          .catch((error: Error) => logger.warn("evolution progress not recorded", { jobId: id, error: error.message }))
          .finally(() => (writing = undefined));
      });
      await writing;
      await finish(id, { result });
      logger.info("evolution job finished", { jobId: id, fitness: result.best.fitness });
    } catch (error) {
      logger.error("evolution job failed", { jobId: id, error });
      await finish(id, { error: (error as Error).message });
    }
  };

  return {
    running: () => running,
    async start(request, source) {
      if (running >= maxRunning) return undefined;
      running++; // counted before the insert, so concurrent requests cannot overshoot the limit
      let job: Job;
      try {
        job = await store.createJob(request, request.generations);
      } catch (error) {
        running--;
        throw error;
      }
      void run(job.job_id, request, source).finally(() => running--);
      return job;
    },
  };
}
