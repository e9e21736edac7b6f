// Polls `probe` until it resolves true; servers are ready when they answer, not when they start.

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Stops waiting at once (the server process died). */
  readonly abandon?: () => string | undefined;
}

/** Resolves when `probe` returns true; rejects with the last probe error after the timeout. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const { timeoutMs, intervalMs = 50, abandon } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const reason = abandon?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not ready within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message ?? last})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
