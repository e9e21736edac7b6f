// Another ACGS service this one calls, checked through its /health. Never required: a service
// stays ready when a peer is down and answers 503 for the calls that need it.
import { measure, type Dependency } from "./dependency";

export function serviceDependency(name: string, baseUrl: string, timeoutMs = 1000): Dependency {
  const url = `${baseUrl}/health`;
  return {
    name,
    required: false,
    check: () =>
      measure(async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).catch((error: Error) => {
          // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND...).
          const cause = (error.cause as { code?: string; message?: string } | undefined) ?? {};
          throw new Error(`GET ${url}: ${cause.code ?? cause.message ?? error.message}`);
        });
        await res.body?.cancel();
        if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
      }, timeoutMs + 100),
  };
}
