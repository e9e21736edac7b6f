// The main route of each service, as bench/services.ts drives it: what to create first, then the
// request repeated under load. auth's login is a memory-hard KDF on purpose (about a quarter of
// a second of a core per login), so it is offered a rate it can take, not 2,000 req/s; auth is
// also measured through the token check it enables (the token-checked targets).
import { CONSTITUTIONAL_HASH, type ServiceName } from "../services/catalog";
import type { Target } from "./target-servers";

export interface BenchRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TargetContext {
  readonly env: Readonly<Record<string, string>>;
  /** URLs of the target's companion services. */
  readonly peers: Readonly<Partial<Record<ServiceName, string>>>;
}

/** One call made while preparing; anything but `expected` stops the bench with the answer. */
async function call(url: string, method: string, path: string, body: unknown, expected: number[], token?: string): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      "x-constitutional-hash": CONSTITUTIONAL_HASH,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text === "" ? undefined : JSON.parse(text);
}

// The first account of a fresh auth bootstraps as orchestrator; later targets log in with it.
const BENCH_ACCOUNT = { username: "bench-orchestrator", password: "bench-password-not-secret", role: "orchestrator" };
async function accessToken(authUrl: string | undefined): Promise<string> {
  if (!authUrl) throw new Error("this target needs auth among its companions");
  await call(authUrl, "POST", "/api/v1/register", BENCH_ACCOUNT, [201, 401, 409]);
  const login = await call(authUrl, "POST", "/api/v1/login", { username: BENCH_ACCOUNT.username, password: BENCH_ACCOUNT.password }, [200]);
  return login.accessToken as string;
}

const VALIDATE: BenchRequest = {
  method: "POST",
  path: "/api/v1/validate",
  body: { agent_id: "bench-agent", action: { type: "read", target: "dataset:public/reports", risk_level: "low" } },
};

/** An audit entry: integrity appends it, and the durable-INSERT floor stores the same body. */
export const AUDIT_APPEND: BenchRequest = {
  method: "POST",
  path: "/api/v1/audit",
  body: { actor: "bench-agent", action: "policy.enforce", decision: "allow", details: { resource: "dataset:reports" } },
};

const VERIFY: BenchRequest = {
  method: "POST",
  path: "/api/v1/verify",
  body: {
    rules: [
      { id: "deny-secrets", effect: "deny", priority: 10, resource: "secret:*" },
      { id: "allow-readers", effect: "allow", subject: "role:reader", action: "read" },
      { id: "allow-writers", effect: "allow", subject: ["role:writer", "role:admin"], action: ["read", "write"] },
      { id: "deny-writes-archive", effect: "deny", action: "write", resource: "archive:*" },
    ],
  },
};

const SYNTHESIZE: BenchRequest = {
  method: "POST",
  path: "/api/v1/synthesize",
  body: {
    principle: "Agents must never delete production databases",
    context: { subjects: ["agent:*"], resources: ["db:prod/*"], exceptions: ["agent:dba"] },
  },
};

// A small run, answered inline; each request also reads the recorded decisions from policy-governance.
const EVOLVE: BenchRequest = {
  method: "POST",
  path: "/api/v1/evolve",
  body: {
    seed: 42,
    generations: 5,
    population: 10,
    parameters: [
      { name: "threshold", min: 0, max: 1 },
      { name: "action:delete", min: 0, max: 1 },
      { name: "resource:dataset:secret*", min: 0, max: 1 },
    ],
  },
};

const withToken = (request: BenchRequest, token: string): BenchRequest => ({ ...request, headers: { authorization: `Bearer ${token}` } });

export const SERVICE_TARGETS: Target[] = [
  {
    name: "constitutional-ai validate (cached)",
    script: "services/constitutional-ai/main.ts",
    goal: 0.4,
    // The same body each time: after the first answer, a Redis hit.
    prepare: async (url) => {
      await call(url, "POST", VALIDATE.path, VALIDATE.body, [200]);
      return VALIDATE;
    },
  },
  {
    name: "policy-governance enforce (cached)",
    script: "services/policy-governance/main.ts",
    goal: 0.4,
    prepare: async (url) => {
      await call(
        url,
        "POST",
        "/api/v1/policies",
        {
          name: `bench-${Date.now()}`,
          rules: [
            { id: "allow-read", effect: "allow", subject: "agent:bench-*", action: "read", resource: "dataset:*" },
            { id: "deny-secrets", effect: "deny", priority: 10, resource: "dataset:secret*" },
          ],
          activate: true,
        },
        [201],
      );
      const request: BenchRequest = {
        method: "POST",
        path: "/api/v1/enforce",
        body: { subject: "agent:bench-1", action: "read", resource: "dataset:reports" },
      };
      await call(url, "POST", request.path, request.body, [200]);
      return request;
    },
  },
  {
    name: "coordinator coordinate (+ blackboard)",
    script: "services/coordinator/main.ts",
    companions: [{ service: "blackboard" }],
    // Several agents, as a deployment has: eight able to analyse (half of them also review, half
    // audit), so assignment spreads the tasks by load instead of every request counting on one agent.
    prepare: async (url) => {
      for (let i = 1; i <= 8; i++) {
        const capabilities = ["bench.analysis", i % 2 === 0 ? "bench.review" : "bench.audit"];
        await call(url, "POST", "/api/v1/agents", { agent_id: `bench-agent-${i}`, capabilities, capacity: 10_000 }, [200, 201]);
      }
      return {
        method: "POST",
        path: "/api/v1/coordinate",
        body: { task_type: "bench.analysis", user_id: "bench-user", constitutional_hash: CONSTITUTIONAL_HASH },
      };
    },
  },
  {
    name: "integrity audit append",
    script: "services/integrity/main.ts",
    request: AUDIT_APPEND,
  },
  {
    name: "blackboard read (full page, cached)",
    script: "services/blackboard/main.ts",
    prepare: async (url) => {
      for (let i = 0; i < 20; i++) {
        await call(url, "POST", "/api/v1/entries", { topic: "bench.full", agent_id: "bench-agent", content: { i, note: "finding" }, tags: ["bench"] }, [201]);
      }
      return { method: "GET", path: "/api/v1/entries?topic=bench.full&limit=20" };
    },
  },
  {
    name: "blackboard read (last page, PostgreSQL)",
    script: "services/blackboard/main.ts",
    prepare: async (url) => {
      for (let i = 0; i < 5; i++) {
        await call(url, "POST", "/api/v1/entries", { topic: "bench.tail", agent_id: "bench-agent", content: { i, note: "finding" }, tags: ["bench"] }, [201]);
      }
      return { method: "GET", path: "/api/v1/entries?topic=bench.tail&limit=20" };
    },
  },
  {
    name: "formal-verification verify",
    script: "services/formal-verification/main.ts",
    request: VERIFY,
  },
  {
    name: "formal-verification verify (token-checked)",
    script: "services/formal-verification/main.ts",
    env: { AUTH_REQUIRED: "true" },
    companions: [{ service: "auth" }],
    goal: 0.4,
    prepare: async (url, { peers }) => {
      const token = await accessToken(peers.auth);
      await call(url, VERIFY.method, VERIFY.path, VERIFY.body, [200], token);
      return withToken(VERIFY, token);
    },
  },
  {
    name: "constitutional-ai validate (cached, token-checked)",
    script: "services/constitutional-ai/main.ts",
    env: { AUTH_REQUIRED: "true" },
    companions: [{ service: "auth" }],
    goal: 0.4,
    prepare: async (url, { peers }) => {
      const token = await accessToken(peers.auth);
      await call(url, "POST", VALIDATE.path, VALIDATE.body, [200], token);
      return withToken(VALIDATE, token);
    },
  },
  {
    name: "governance-synthesis synthesize (+ 2 peers)",
    script: "services/governance-synthesis/main.ts",
    companions: [{ service: "constitutional-ai" }, { service: "formal-verification" }],
    prepare: async (url) => {
      await call(url, SYNTHESIZE.method, SYNTHESIZE.path, SYNTHESIZE.body, [200]);
      return SYNTHESIZE;
    },
  },
  {
    name: "evolutionary-computation evolve (small, inline)",
    script: "services/evolutionary-computation/main.ts",
    companions: [{ service: "policy-governance" }],
    prepare: async (url, { peers }) => {
      const policies = peers["policy-governance"]!;
      await call(
        policies,
        "POST",
        "/api/v1/policies",
        {
          name: "bench-evolve",
          rules: [
            { id: "allow-read", effect: "allow", action: "read", resource: "dataset:*" },
            { id: "deny-secrets", effect: "deny", priority: 10, resource: "dataset:secret*" },
          ],
          activate: true,
        },
        [201],
      );
      // Decisions to learn from: reads of public and secret datasets, deletes.
      for (let i = 0; i < 60; i++) {
        const request = { subject: `agent:bench-${i % 5}`, action: i % 3 === 0 ? "delete" : "read", resource: i % 4 === 0 ? `dataset:secret-${i}` : `dataset:public-${i}` };
        await call(policies, "POST", "/api/v1/enforce", request, [200]);
      }
      await call(url, EVOLVE.method, EVOLVE.path, EVOLVE.body, [200]);
      return EVOLVE;
    },
  },
  {
    name: "auth login (scrypt N=2^15)",
    script: "services/auth/main.ts",
    offeredRate: 4,
    note:
      "login hashes with scrypt (N=2^15, r=8, p=3: 32 MiB, ~0.25 s of a core) by design; offered 4 req/s, not 2,000. All for one account: " +
      "its logins run one at a time, and at full load (50 at once) those past the gate's bound (1 running, 8 waiting) are refused with 429, " +
      "so that row's req/s and errors count refusals",
    prepare: async (url) => {
      await accessToken(url);
      return { method: "POST", path: "/api/v1/login", body: { username: BENCH_ACCOUNT.username, password: BENCH_ACCOUNT.password } };
    },
  },
];
