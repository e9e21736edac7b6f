// Something a service needs (a database, a cache, another service), as /health and /ready see it.

export type DependencyState = "ok" | "down";

export interface DependencyCheck {
  readonly status: DependencyState;
  readonly latencyMs: number;
  /** Why it is down. */
  readonly error?: string;
}

export interface Dependency {
  readonly name: string;
  /** A required dependency that is down makes the service not ready (503 on /ready). */
  readonly required: boolean;
  /** Never rejects, never takes much longer than its own timeout. */
  check(): Promise<DependencyCheck>;
}

export interface DependencyReport extends DependencyCheck {
  readonly name: string;
  readonly required: boolean;
}

/**
 * Times `probe`; a rejection or `timeoutMs` passing makes it "down". A dead server must not hang
 * the health endpoint, hence the timeout around every probe.
 */
export async function measure(probe: () => Promise<unknown>, timeoutMs: number): Promise<DependencyCheck> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { status: "ok", latencyMs: elapsed(start) };
  } catch (error) {
    return { status: "down", latencyMs: elapsed(start), error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

/** Checks every dependency concurrently. */
export function checkDependencies(dependencies: readonly Dependency[]): Promise<DependencyReport[]> {
  return Promise.all(
    dependencies.map(async (d) => ({ name: d.name, ...(await d.check()), required: d.required })),
  );
}
