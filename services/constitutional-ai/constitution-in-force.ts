// The compiled constitution in force. Its head (version and hash) is read from PostgreSQL under a
// lease (leased-read.ts): a read stands for HEAD_LEASE_MS, and a new version is acknowledged only
// once that long has passed since its commit, so it applies at once to every request on every
// replica that starts after the acknowledgement, at a few reads per second instead of one per
// request. Principles are loaded and compiled once per version. While PostgreSQL is down,
// judging goes on under the last version seen.
import type { Logger } from "../kit/logger";
import { asDependencyUnavailable } from "../kit/unavailable";
import { compileConstitution, type CompiledConstitution } from "./constitution";
import { leasedRead, waitOutLease } from "./leased-read";
import type { ConstitutionStore } from "./store";

/** How long a read of the head stands in for a fresh one; a new version's answer waits as long. */
const HEAD_LEASE_MS = 200;

/** Resolves once every replica's requests see a version committed at `committedAt` (performance.now()). */
export const versionSeenEverywhere = (committedAt: number) => waitOutLease(HEAD_LEASE_MS, committedAt);

export function constitutionInForce(store: ConstitutionStore, logger: Logger): () => Promise<CompiledConstitution> {
  const readHead = leasedRead(() => store.currentHead(), HEAD_LEASE_MS);
  let compiled: Promise<CompiledConstitution> | undefined;
  let compiledVersion = 0;
  let lastGood: CompiledConstitution | undefined;
  let degraded = false;

  const load = (version: number) => {
    compiledVersion = version;
    compiled = store.version(version).then((record) => {
      if (!record) throw new Error(`constitution version ${version} vanished`);
      return compileConstitution(record);
    });
    compiled.catch(() => {
      if (compiledVersion === version) compiledVersion = 0;
    });
    return compiled;
  };

  return async () => {
    try {
      const head = await readHead();
      const constitution = await (head.version === compiledVersion && compiled ? compiled : load(head.version));
      lastGood = constitution;
      if (degraded) logger.info("constitution store reachable again", { version: constitution.version });
      degraded = false;
      return constitution;
    } catch (error) {
      if (lastGood === undefined || asDependencyUnavailable(error) === undefined) throw error;
      if (!degraded) logger.warn("constitution store unreachable; judging under the last version seen", { version: lastGood.version });
      degraded = true;
      return lastGood;
    }
  };
}
