// The compiled constitution in force, checked against PostgreSQL for every request (batched by
// freshRead) so a version created on another replica applies at once; principles are loaded and
// compiled once per version. While PostgreSQL is down, judging goes on under the last version seen.
import type { Logger } from "../kit/logger";
import { asDependencyUnavailable } from "../kit/unavailable";
import { compileConstitution, type CompiledConstitution } from "./constitution";
import { freshRead } from "./fresh-read";
import type { ConstitutionStore } from "./store";

export function constitutionInForce(store: ConstitutionStore, logger: Logger): () => Promise<CompiledConstitution> {
  const readHead = freshRead(() => store.currentHead());
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
