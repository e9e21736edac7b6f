// A service as a process: a real entry point started with tsx, stopped with SIGTERM; a bad
// configuration exits 1; and graceful shutdown through the programmatic handle.
import { spawn } from "node:child_process";
import path from "node:path";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { silentLogger } from "../../services/kit/logger";
import { startService, type ServiceHandle } from "../../services/kit/start-service";
import { freePort } from "../support/free-port";
import { waitUntil } from "../support/wait-until";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");

interface Run {
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  stdout(): string;
  stderr(): string;
  running(): boolean;
}

/** Starts services/<name>/main.ts with only `env` (plus PATH) from the test's environment. */
function runEntry(name: string, env: Record<string, string>): Run {
  const child = spawn(tsx, [path.join("services", name, "main.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      done = true;
      resolve(code);
    });
  });
  return {
    exited,
    kill: (signal) => void child.kill(signal),
    stdout: () => out,
    stderr: () => err,
    running: () => !done,
  };
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("service process", () => {
  it("starts integrity on the embedded defaults, answers /health with the hash, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const run = runEntry("integrity", { PORT: String(port) });
    try {
      let health = { status: 0, hash: null as string | null, body: {} as { status?: string; constitutionalHash?: string; dependencies?: unknown } };
      await waitUntil(
        "integrity /health ok",
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
          health = { status: res.status, hash: res.headers.get("x-constitutional-hash"), body: (await res.json()) as typeof health.body };
          // ok once embedded PGlite has opened.
          return health.body.status === "ok";
        },
        { timeoutMs: 40_000, intervalMs: 200, abandon: () => (run.running() ? undefined : `exited early:\n${run.stderr()}`) },
      );
      expect(health.status).toBe(200);
      expect(health.hash).toBe(CONSTITUTIONAL_HASH);
      expect(health.body.constitutionalHash).toBe(CONSTITUTIONAL_HASH);
      expect(health.body.dependencies).toEqual([{ name: "postgres", status: "ok", latencyMs: expect.any(Number), required: true }]);

      run.kill("SIGTERM");
      expect(await within(10_000, "exit after SIGTERM", run.exited)).toBe(0);
      const logs = run
        .stdout()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const messages = logs.map((l) => l.msg);
      expect(messages).toEqual(expect.arrayContaining(["service started", "shutting down", "stopped"]));
      expect(logs.find((l) => l.msg === "service started")).toMatchObject({ service: "integrity", port, database: "pglite (in memory)" });
    } finally {
      if (run.running()) run.kill("SIGKILL");
    }
  }, 60_000);

  it("exits 1 with a message naming PORT and the service on a bad PORT", async () => {
    const run = runEntry("integrity", { PORT: "abc" });
    expect(await within(20_000, "exit on bad PORT", run.exited)).toBe(1);
    expect(run.stderr()).toContain('invalid configuration of service "integrity": PORT: must be an integer port');
  }, 30_000);
});

describe("graceful shutdown", () => {
  let handle: ServiceHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
  });

  async function start(env: Record<string, string>, slowMs: number): Promise<ServiceHandle> {
    // formal-verification: no database, so nothing but the server to start.
    const config = loadConfig("formal-verification", env);
    return startService({
      config,
      logger: silentLogger,
      hostname: "127.0.0.1",
      port: 0,
      routes: (app) =>
        app.get("/api/v1/slow", async (c) => {
          // unref: the request cut at the deadline must not keep the test process alive.
          await new Promise((r) => setTimeout(r, slowMs).unref());
          return c.json({ finished: true });
        }),
    });
  }

  it("lets an in-flight request finish, then refuses new connections", async () => {
    handle = await start({}, 600);
    const url = handle.url;
    const inFlight = fetch(`${url}/api/v1/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    const stopped = handle.shutdown();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
    expect(await res.json()).toEqual({ finished: true });
    await within(3000, "shutdown", stopped);
    // It waited for the request (about 500 ms left), and not for keep-alive timeouts.
    expect(performance.now() - started).toBeGreaterThan(300);
    expect(performance.now() - started).toBeLessThan(2500);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("closes requests still running at SHUTDOWN_TIMEOUT_MS instead of waiting for them", async () => {
    handle = await start({ SHUTDOWN_TIMEOUT_MS: "200" }, 5000);
    const inFlight = fetch(`${handle.url}/api/v1/slow`).then(
      (r) => r.status,
      () => "connection closed",
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await within(3000, "shutdown", handle.shutdown());
    expect(performance.now() - started).toBeLessThan(1500);
    expect(await inFlight).toBe("connection closed");
  });
});

describe("the contract over a real socket", () => {
  let handle: ServiceHandle;
  beforeAll(async () => {
    const config = loadConfig("formal-verification", { BODY_LIMIT_BYTES: "64", HASH_STRICT: "true", RATE_LIMIT_BURST: "30" });
    handle = await startService({
      config,
      logger: silentLogger,
      hostname: "127.0.0.1",
      port: 0,
      routes: (app) => app.post("/api/v1/echo", async (c) => c.json({ length: (await c.req.text()).length })),
    });
  });
  afterAll(() => handle.shutdown());

  const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    fetch(`${handle.url}/api/v1/echo`, {
      method: "POST",
      headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH, ...headers },
      body,
      duplex: "half",
    } as RequestInit);

  it("reads the hash and request id headers from the socket", async () => {
    const ok = await post("hello", { "X-Request-Id": "sock-1" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-request-id")).toBe("sock-1");
    expect(await ok.json()).toEqual({ length: 5 });
    const missing = await fetch(`${handle.url}/api/v1/echo`, { method: "POST", body: "x" });
    expect(missing.status).toBe(403);
    expect(missing.headers.get("x-constitutional-hash")).toBe(CONSTITUTIONAL_HASH);
  });

  it("answers 413 to a body over the limit, with a length or chunked", async () => {
    expect((await post("x".repeat(65))).status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("y".repeat(30)));
        controller.close();
      },
    });
    const chunked = await post(chunks);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ error: "request body too large", limitBytes: 64 });
    expect((await post("x".repeat(64))).status).toBe(200);
  });

  it("limits by the client's socket address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetch(`${handle.url}/api/v1/nothing`, { headers: { "X-Constitutional-Hash": CONSTITUTIONAL_HASH } })).status);
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(30);
  });
});

