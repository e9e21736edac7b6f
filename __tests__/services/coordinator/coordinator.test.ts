// coordinator end to end on real ports: a real blackboard (startTestService) and one real PostgreSQL
// 15 for both. Assignment by capability and load, the blackboard entry of each task, concurrency,
// the blackboard stopped (503, nothing acknowledged), PostgreSQL stopped, and auth.
import { Client } from "pg";
import { CONSTITUTIONAL_HASH } from "../../../services/catalog";
import { openCoordinatorStore } from "../../../services/coordinator/store";
import { metricSample } from "../../support/metrics-text";
import { blackboardRoutes } from "../../../services/blackboard/routes";
import { coordinatorRoutes } from "../../../services/coordinator/routes";
import type { EnvironmentVariables } from "../../../services/kit/config";
import type { ServiceHandle } from "../../../services/kit/start-service";
import { startTokenIssuer } from "../../support/token-issuer";
import { startPostgres, type PostgresServer } from "../../support/postgres";
import { startTestService } from "../../support/test-service";

type Json = any;
const HASH = { "X-Constitutional-Hash": CONSTITUTIONAL_HASH };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = HASH): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe("coordinator", () => {
  let postgres: PostgresServer;
  let blackboard: ServiceHandle;
  let coordinator: ServiceHandle;
  let admin: Client;
  const started: ServiceHandle[] = [];

  const startBlackboard = async (env: EnvironmentVariables = {}, port = 0) => {
    const handle = await startTestService("blackboard", blackboardRoutes, { DATABASE_URL: postgres.url, ...env }, { port });
    started.push(handle);
    return handle;
  };
  const startCoordinator = async (blackboardUrl: string, env: EnvironmentVariables = {}) => {
    const handle = await startTestService("coordinator", coordinatorRoutes, { DATABASE_URL: postgres.url, SERVICE_URL_BLACKBOARD: blackboardUrl, ...env });
    started.push(handle);
    return handle;
  };

  const register = (agent: unknown, url = coordinator.url) => call(url, "POST", "/api/v1/agents", agent);
  const coordinate = (body: Record<string, unknown>, url = coordinator.url) =>
    call(url, "POST", "/api/v1/coordinate", { user_id: "load_test_user", constitutional_hash: CONSTITUTIONAL_HASH, ...body });
  const agents = async (url = coordinator.url): Promise<Record<string, Json>> =>
    Object.fromEntries((await call(url, "GET", "/api/v1/agents")).body.agents.map((a: Json) => [a.agent_id, a]));
  const taskCount = async () => Number((await admin.query("SELECT count(*) AS n FROM coordinator_tasks")).rows[0].n);

  beforeAll(async () => {
    postgres = await startPostgres();
    blackboard = await startBlackboard();
    coordinator = await startCoordinator(blackboard.url);
    admin = new Client({ connectionString: postgres.url });
    admin.on("error", () => {}); // the halt test drops this connection
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await admin?.end().catch(() => {});
    await Promise.all(started.map((s) => s.shutdown()));
    await postgres?.stop();
  });

  it("registers agents, and updates a registration", async () => {
    const alpha = await register({ agent_id: "alpha", capabilities: ["review"], capacity: 2 });
    expect(alpha.status).toBe(201);
    expect(alpha.body).toMatchObject({ agent_id: "alpha", capabilities: ["review"], capacity: 2, open_tasks: 0, load: 0 });
    expect((await register({ agent_id: "beta", capabilities: ["review", "audit"], capacity: 1 })).status).toBe(201);
    expect((await register({ agent_id: "gamma", capabilities: ["audit"], capacity: 4 })).status).toBe(201);
    const again = await register({ agent_id: "gamma", capabilities: ["audit", "archive"], capacity: 4 });
    expect(again.status).toBe(200);
    expect(again.body.capabilities).toEqual(["audit", "archive"]);
    expect(Object.keys(await agents())).toEqual(["alpha", "beta", "gamma"]);
    const auditors = (await call(coordinator.url, "GET", "/api/v1/agents?capability=audit")).body.agents;
    expect(auditors.map((a: Json) => a.agent_id)).toEqual(["beta", "gamma"]);
  });

  it("answers bad registrations 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ capabilities: ["x"], capacity: 1 }, "agent_id"],
      [{ agent_id: "a b", capabilities: ["x"], capacity: 1 }, "agent_id"],
      [{ agent_id: "a", capabilities: [], capacity: 1 }, "capabilities"],
      [{ agent_id: "a", capabilities: ["x", "x"], capacity: 1 }, "capabilities"],
      [{ agent_id: "a", capabilities: ["ok", "no space"], capacity: 1 }, "capabilities.1"],
      [{ agent_id: "a", capabilities: ["x"], capacity: 0 }, "capacity"],
      [{ agent_id: "a", capabilities: ["x"], capacity: 1.5 }, "capacity"],
    ];
    for (const [body, field] of cases) {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    expect((await call(coordinator.url, "GET", "/api/v1/agents?capability=has%20space")).body.fields[0].path).toBe("capability");
  });

  it("assigns by capability and load (open tasks over capacity, ties by agent id) and posts each task on the blackboard", async () => {
    // alpha 0/2 ties beta 0/1 (alpha); beta 0/1 < alpha 1/2; alpha 1/2 < beta 1/1; alpha 2/2 ties beta 1/1 (alpha).
    const review: Json[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await coordinate({ task_type: "review", priority: 7, payload: { doc: i } });
      expect(res.status).toBe(200);
      review.push(res.body);
    }
    expect(review.map((r) => r.assigned_agent)).toEqual(["alpha", "beta", "alpha", "alpha"]);
    for (const r of review) {
      expect(r).toEqual({ task_id: expect.any(String), status: "assigned", assigned_agent: expect.any(String), blackboard_entry_id: expect.any(Number) });
    }
    // beta (1/1) is busier than gamma (0/4); alpha cannot audit.
    const audit = await coordinate({ task_type: "audit" });
    expect(audit.body.assigned_agent).toBe("gamma");
    const load = await agents();
    expect([load.alpha.open_tasks, load.beta.open_tasks, load.gamma.open_tasks]).toEqual([3, 1, 1]);
    expect(load.alpha.load).toBe(1.5);
    // Re-registering changes capabilities and capacity, never the count of open tasks.
    const alpha = await register({ agent_id: "alpha", capabilities: ["review"], capacity: 3 });
    expect(alpha.body).toMatchObject({ open_tasks: 3, capacity: 3, load: 1 });

    const board = await call(blackboard.url, "GET", "/api/v1/entries?topic=tasks.review");
    expect(board.body.entries.map((e: Json) => e.id)).toEqual(review.map((r) => r.blackboard_entry_id));
    expect(board.body.entries[0]).toMatchObject({
      topic: "tasks.review",
      agent_id: "coordinator",
      content: { task_id: review[0].task_id, task_type: "review", user_id: "load_test_user", priority: 7, payload: { doc: 0 }, assigned_agent: "alpha", status: "assigned" },
      tags: ["assigned"],
    });

    const task = await call(coordinator.url, "GET", `/api/v1/tasks/${review[1].task_id}`);
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({ task_id: review[1].task_id, status: "assigned", assigned_agent: "beta", task_type: "review", priority: 7, payload: { doc: 1 }, blackboard_entry_id: review[1].blackboard_entry_id });
  });

  it("queues a task no registered agent can do, still on the blackboard", async () => {
    const res = await coordinate({ task_type: "governance_validation" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "queued", assigned_agent: null, blackboard_entry_id: expect.any(Number) });
    const board = (await call(blackboard.url, "GET", "/api/v1/entries?topic=tasks.governance_validation")).body.entries;
    expect(board.map((e: Json) => e.content.task_id)).toEqual([res.body.task_id]);
    expect(board[0].content.status).toBe("queued");
  });

  it("completes a task, freeing its agent's capacity; a closed task cannot be closed again", async () => {
    const audit = await coordinate({ task_type: "audit" });
    const before = (await agents())[audit.body.assigned_agent].open_tasks;
    const done = await call(coordinator.url, "PATCH", `/api/v1/tasks/${audit.body.task_id}`, { status: "completed" });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe("completed");
    expect((await agents())[audit.body.assigned_agent].open_tasks).toBe(before - 1);
    const again = await call(coordinator.url, "PATCH", `/api/v1/tasks/${audit.body.task_id}`, { status: "failed" });
    expect(again).toMatchObject({ status: 409, body: { status: "completed" } });
    expect((await call(coordinator.url, "PATCH", `/api/v1/tasks/${audit.body.task_id}`, { status: "done" })).body.fields[0].path).toBe("status");
    expect((await call(coordinator.url, "PATCH", "/api/v1/tasks/6f1d3c1e-0000-4000-8000-000000000000", { status: "failed" })).status).toBe(404);
  });

  it("answers bad coordinate bodies 400 naming the field, and a wrong hash 403 (header or body)", async () => {
    const before = await taskCount();
    const cases: [Record<string, unknown>, string][] = [
      [{ task_type: undefined }, "task_type"],
      [{ task_type: "has space" }, "task_type"],
      [{ task_type: "review", user_id: "" }, "user_id"],
      [{ task_type: "review", constitutional_hash: undefined }, "constitutional_hash"],
      [{ task_type: "review", priority: 11 }, "priority"],
      [{ task_type: "review", payload: "text" }, "payload"],
    ];
    for (const [body, field] of cases) {
      const res = await coordinate(body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    const wrongBody = await coordinate({ task_type: "review", constitutional_hash: "0000000000000000" });
    expect(wrongBody.status).toBe(403);
    expect(wrongBody.body).toMatchObject({ fields: [{ path: "constitutional_hash" }], expected: CONSTITUTIONAL_HASH, received: "0000000000000000" });
    const wrongHeader = await call(coordinator.url, "POST", "/api/v1/coordinate", { task_type: "review", user_id: "u", constitutional_hash: CONSTITUTIONAL_HASH }, { "X-Constitutional-Hash": "0000000000000000" });
    expect(wrongHeader.status).toBe(403);
    expect((await call(coordinator.url, "GET", "/api/v1/tasks/42")).body.fields[0].path).toBe("id");
    expect(await taskCount()).toBe(before);
  });

  it("keeps counts exact under concurrent requests, and never queues work a busy agent can do", async () => {
    await register({ agent_id: "solo", capabilities: ["solo"], capacity: 100 });
    await register({ agent_id: "pair-a", capabilities: ["pair"], capacity: 50 });
    await register({ agent_id: "pair-b", capabilities: ["pair"], capacity: 50 });
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => coordinate({ task_type: "solo" })),
      ...Array.from({ length: 40 }, () => coordinate({ task_type: "pair" })),
    ]);
    expect(answers.every((a) => a.status === 200 && a.body.status === "assigned")).toBe(true);
    const assigned = (agent: string) => answers.filter((a) => a.body.assigned_agent === agent).length;
    const load = await agents();
    expect(assigned("solo")).toBe(20);
    expect(load.solo.open_tasks).toBe(20);
    expect(load["pair-a"].open_tasks).toBe(assigned("pair-a"));
    expect(load["pair-b"].open_tasks).toBe(assigned("pair-b"));
    expect(assigned("pair-a") + assigned("pair-b")).toBe(40);
    // Spread over both; exact halves only when requests arrive one by one.
    expect(Math.min(assigned("pair-a"), assigned("pair-b"))).toBeGreaterThanOrEqual(10);
  });

  it("assigns concurrent requests together: fewer blackboard calls than tasks, each task its own entry, balanced by load", async () => {
    for (const id of ["b1", "b2", "b3", "b4"]) await register({ agent_id: id, capabilities: ["batched"], capacity: 10 });
    const batchCalls = async () =>
      metricSample(await (await fetch(`${blackboard.url}/metrics`)).text(), "acgs_requests_total", { route: "/api/v1/entries/batch", status: "201" }) ?? 0;
    const callsBefore = await batchCalls();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => coordinate({ task_type: "batched", payload: { i } })));
    expect(answers.every((a) => a.status === 200 && a.body.status === "assigned")).toBe(true);
    expect(await batchCalls()).toBeLessThan(callsBefore + 40);
    // Greedy by load from equal capacities: each agent gets exactly a quarter, however the batches fell.
    const load = await agents();
    expect(["b1", "b2", "b3", "b4"].map((id) => load[id].open_tasks)).toEqual([10, 10, 10, 10]);
    const entries: Json[] = (await call(blackboard.url, "GET", "/api/v1/entries?topic=tasks.batched&limit=500")).body.entries;
    expect(entries).toHaveLength(40);
    const entryOf = new Map(entries.map((e) => [e.content.task_id, e]));
    for (const { body } of answers) {
      const entry = entryOf.get(body.task_id);
      expect(entry).toMatchObject({ id: body.blackboard_entry_id, content: { assigned_agent: body.assigned_agent, status: "assigned" } });
    }
    const task = await call(coordinator.url, "GET", `/api/v1/tasks/${answers[17].body.task_id}`);
    expect(task.body).toMatchObject({ status: "assigned", payload: { i: 17 }, blackboard_entry_id: answers[17].body.blackboard_entry_id });
  });

  it("chooses agents for a batch of several task types in turn, and gives counts back", async () => {
    await register({ agent_id: "x1", capabilities: ["mx", "my"], capacity: 2 });
    await register({ agent_id: "x2", capabilities: ["mx"], capacity: 1 });
    await register({ agent_id: "x3", capabilities: ["my"], capacity: 4 });
    const store = openCoordinatorStore(coordinator.context.database!);
    // mx: x1 0/2 ties x2 0/1 (x1), then x2 (0/1 < 1/2); my: x3 0/4, x3 1/4, then x1 1/2 ties x3 2/4 (x1).
    expect(await store.recordAndAssign([], ["mx", "my", "mx", "my", "nobody", "my"])).toEqual(["x1", "x3", "x2", "x3", null, "x1"]);
    let load = await agents();
    expect([load.x1.open_tasks, load.x2.open_tasks, load.x3.open_tasks]).toEqual([2, 1, 2]);
    await store.releaseAgents(["x1", null, "x3", "x3"]);
    load = await agents();
    expect([load.x1.open_tasks, load.x2.open_tasks, load.x3.open_tasks]).toEqual([1, 1, 0]);
  });

  it("answers 502 for the requests whose token the blackboard refuses, and 200 for those posted with them", async () => {
    const issuer = await startTokenIssuer();
    try {
      // The blackboard checks tokens; this coordinator does not (dev), so an observer's token reaches it.
      const board = await startBlackboard({ AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl });
      const local = await startCoordinator(board.url);
      await register({ agent_id: "g1", capabilities: ["gated"], capacity: 100 });
      const tasks = await taskCount();
      const as = (role: "worker" | "observer") => ({ ...HASH, Authorization: `Bearer ${issuer.token(role)}` });
      const body = { task_type: "gated", user_id: "u", constitutional_hash: CONSTITUTIONAL_HASH };
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => call(local.url, "POST", "/api/v1/coordinate", body, as(i % 2 === 0 ? "worker" : "observer"))),
      );
      answers.forEach((answer, i) => {
        if (i % 2 === 0) expect(answer).toMatchObject({ status: 200, body: { status: "assigned", assigned_agent: "g1" } });
        else expect(answer).toMatchObject({ status: 502, body: { error: "the blackboard refused the task", blackboard: { status: 403 } } });
      });
      expect(await taskCount()).toBe(tasks + 6);
      expect((await agents()).g1.open_tasks).toBe(6);
    } finally {
      await issuer.stop();
    }
  });

  it("waits for a capable agent another request holds rather than queueing the task", async () => {
    await admin.query("BEGIN");
    await admin.query("SELECT * FROM coordinator_agents WHERE agent_id = 'solo' FOR UPDATE");
    let answered = false;
    const pending = coordinate({ task_type: "solo" }).finally(() => (answered = true));
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
    } finally {
      await admin.query("COMMIT");
    }
    expect((await pending).body).toMatchObject({ status: "assigned", assigned_agent: "solo" });
  });

  it("answers 503 with Retry-After when the blackboard is stopped, acknowledging nothing", async () => {
    const board = await startBlackboard();
    const local = await startCoordinator(board.url);
    expect((await coordinate({ task_type: "review" }, local.url)).status).toBe(200);
    await board.shutdown();
    const tasks = await taskCount();
    const load = await agents();
    const res = await coordinate({ task_type: "review" }, local.url);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.body).toMatchObject({ error: "dependency unavailable", dependency: "blackboard" });
    expect(await taskCount()).toBe(tasks);
    expect(await agents()).toEqual(load);
  });

  it("needs a worker's token to coordinate and a specialist's to register, forwarding the token to the blackboard", async () => {
    const issuer = await startTokenIssuer();
    try {
      const auth = { AUTH_REQUIRED: "true", AUTH_JWKS_URL: issuer.jwksUrl };
      const board = await startBlackboard(auth);
      const local = await startCoordinator(board.url, auth);
      const as = (token?: string) => ({ ...HASH, ...(token ? { Authorization: `Bearer ${token}` } : {}) });
      const body = { task_type: "review", user_id: "u", constitutional_hash: CONSTITUTIONAL_HASH };
      expect((await call(local.url, "POST", "/api/v1/coordinate", body, as())).status).toBe(401);
      expect((await call(local.url, "POST", "/api/v1/coordinate", body, as(issuer.token("observer")))).body).toMatchObject({ requiredLevel: 5, level: 3 });
      const ok = await call(local.url, "POST", "/api/v1/coordinate", body, as(issuer.token("worker")));
      expect(ok.status).toBe(200);
      expect(ok.body.blackboard_entry_id).toEqual(expect.any(Number));
      const agent = { agent_id: "delta", capabilities: ["review"], capacity: 1 };
      const low = await call(local.url, "POST", "/api/v1/agents", agent, as(issuer.token("worker")));
      expect(low).toMatchObject({ status: 403, body: { requiredLevel: 7, level: 5 } });
      expect((await call(local.url, "POST", "/api/v1/agents", agent, as(issuer.token("specialist")))).status).toBe(201);
      expect((await call(local.url, "GET", `/api/v1/tasks/${ok.body.task_id}`, undefined, as())).status).toBe(200);
    } finally {
      await issuer.stop();
    }
  });

  it("answers 503 with Retry-After while PostgreSQL is down and loses no acknowledged task", async () => {
    const acknowledged: Json[] = [];
    const refused: { status: number; retryAfter: string | null }[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const res = await coordinate({ task_type: "audit" }).catch(() => undefined);
        if (res?.status === 200) acknowledged.push(res.body);
        else if (res) refused.push({ status: res.status, retryAfter: res.headers.get("retry-after") });
      }
    };
    const clients = [0, 1, 2].map(client);
    const waitFor = async (done: () => boolean) => {
      while (!done()) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => acknowledged.length >= 10);
    await postgres.halt();
    try {
      await waitFor(() => refused.length >= 6);
      expect((await fetch(`${coordinator.url}/ready`)).status).toBe(503);
    } finally {
      await postgres.resume();
    }
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 10);
    stop = true;
    await Promise.all(clients);

    for (const r of refused) expect(r).toEqual({ status: 503, retryAfter: "5" });
    for (const ack of acknowledged) {
      const task = await call(coordinator.url, "GET", `/api/v1/tasks/${ack.task_id}`);
      expect(task.status).toBe(200);
      expect(task.body).toMatchObject({ status: "assigned", assigned_agent: ack.assigned_agent, blackboard_entry_id: ack.blackboard_entry_id });
    }
  }, 60_000);
});
