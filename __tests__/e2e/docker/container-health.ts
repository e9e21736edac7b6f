// Waits for Docker's own health status of a container: the image's or the stack's health check,
// run by the engine, not a probe of the test's.
import { docker, tail } from "./docker-cli";
import { engineCall } from "./engine-api";
import type { LaunchedContainer } from "./container-launch";

/** Resolves with the seconds it took to become healthy; rejects naming the service otherwise. */
export async function waitHealthy(host: string, container: LaunchedContainer, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const state = (await engineCall(host, "GET", `/containers/${container.id}/json`)).json().State;
    const status: string | undefined = state.Health?.Status;
    if (status === "healthy") return (Date.now() - started) / 1000;
    const failure =
      status === undefined ? "it has no health check"
      : status === "unhealthy" ? "its health check failed"
      : Date.now() - started > timeoutMs ? `still "${status}" after ${timeoutMs / 1000} s`
      : undefined;
    if (failure) {
      const checks = (state.Health?.Log ?? []) as { ExitCode: number; Output: string }[];
      const last = checks.at(-1);
      const logs = await docker(host, ["logs", "--tail", "15", container.id], { allowFailure: true });
      throw new Error(
        `service "${container.component}" (container ${container.name}) is not healthy: ${failure}` +
          ` (state ${state.Status}, restarts ${state.RestartCount ?? 0}, exit code ${state.ExitCode})\n` +
          (last ? `last health check (exit ${last.ExitCode}): ${last.Output.trim()}\n` : "") +
          `--- container log ---\n${tail(logs.stdout + logs.stderr)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
