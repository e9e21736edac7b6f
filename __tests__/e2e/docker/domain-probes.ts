// One domain route per service, called on the running container: reads where a service has one
// (they reach PostgreSQL), and for the services that call others, a request that makes them call
// their peers by the stack's host names. A route the service does not have yet (the kit's 404 for
// an unmatched path) falls back to /ready.
import { CONSTITUTIONAL_HASH, type ServiceName } from "../../../services/catalog";

interface Probe {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: unknown;
  /** Statuses that mean the route did its work. */
  readonly expect: readonly number[];
}

export const DOMAIN_PROBES: Readonly<Record<ServiceName, Probe>> = {
  auth: { method: "GET", path: "/.well-known/jwks.json", expect: [200] },
  "constitutional-ai": { method: "GET", path: "/api/v1/constitution", expect: [200] },
  integrity: { method: "GET", path: "/api/v1/audit/verify", expect: [200] },
  "formal-verification": {
    method: "POST",
    path: "/api/v1/verify",
    body: { rules: [{ id: "read-allowed", effect: "allow", action: "read" }, { id: "read-denied", effect: "deny", action: "read" }] },
    expect: [200],
  },
  // Calls constitutional-ai and formal-verification: 503 would mean a peer was not reached.
  "governance-synthesis": { method: "POST", path: "/api/v1/synthesize", body: { principle: "Agents may read public documents" }, expect: [200, 422] },
  "policy-governance": { method: "GET", path: "/api/v1/policies", expect: [200] },
  // Reads policy-governance's recorded decisions first; none recorded yet is a 409.
  "evolutionary-computation": {
    method: "POST",
    path: "/api/v1/evolve",
    body: { seed: 1, generations: 2, population: 2, parameters: [{ name: "threshold", min: 0, max: 1 }] },
    expect: [200, 409],
  },
  coordinator: { method: "GET", path: "/api/v1/agents", expect: [200] },
  blackboard: { method: "GET", path: "/api/v1/entries?topic=e2e", expect: [200] },
};

export interface ProbeResult {
  /** "GET /api/v1/policies -> 200", or the /ready fallback. */
  readonly summary: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

/** The kit's answer to a path no route matched: 404 naming the method and path. */
function unmatched(status: number, text: string, path: string): boolean {
  if (status !== 404) return false;
  try {
    const body = JSON.parse(text);
    return body.error === "not found" && body.path === path.split("?")[0];
  } catch {
    return false;
  }
}

export async function probeDomainRoute(baseUrl: string, service: ServiceName): Promise<ProbeResult> {
  const probe = DOMAIN_PROBES[service];
  const answer = await call(probe.method, baseUrl + probe.path, probe.body);
  const route = `${probe.method} ${probe.path}`;
  if (!unmatched(answer.status, answer.text, probe.path)) {
    return { summary: `${route} -> ${answer.status}`, ok: probe.expect.includes(answer.status), detail: answer.text.slice(0, 300) };
  }
  const ready = await call("GET", `${baseUrl}/ready`);
  return { summary: `${route} not there yet; GET /ready -> ${ready.status}`, ok: ready.status === 200, detail: ready.text.slice(0, 300) };
}
