// Container health check (Docker HEALTHCHECK; the image has no curl): exit 0 when the service's
// /health answers 200 within 3 s, else 1. "degraded" still answers 200: the process is alive.
import { readFileSync } from "node:fs";

function port() {
  if (process.env.PORT) return process.env.PORT;
  // Written at image build: the catalog's default port of the service in this image.
  try {
    return String(JSON.parse(readFileSync(new URL("./service.json", import.meta.url), "utf8")).defaultPort);
  } catch {
    return "8000";
  }
}

try {
  const url = `http://127.0.0.1:${port()}/health`;
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  await res.body?.cancel();
  if (res.status !== 200) {
    console.error(`health check: GET ${url} answered ${res.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  console.error(`health check: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
