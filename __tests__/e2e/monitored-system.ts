// The whole dev system on one machine, for the end-to-end monitoring test: the nine services as
// processes (tsx), a real PostgreSQL and Redis, Debian's exporters, Prometheus and Alertmanager fed
// with the files the dev stack ships, rewritten only where a machine differs from Docker: targets
// on loopback, the webhook receiver on a local port, and short intervals so alerts fire in seconds.
import { createServer, type Server } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { App } from "cdktf";
import { parse, stringify } from "yaml";
import { ENVIRONMENTS } from "../../environments";
import { SERVICES, serviceUrlVariable, type ServiceName } from "../../services/catalog";
import { PlatformStack } from "../../stacks/platform-stack";
import { startExporters, type Exporters } from "../support/exporters";
import { freePort } from "../support/free-port";
import { startPostgres, type PostgresServer } from "../support/postgres";
import { startRedis, type RedisServer } from "../support/redis";
import { spawnServer, type ServerProcess } from "../support/server-process";
import { waitUntil } from "../support/wait-until";

const ROOT = resolve(__dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager";

export interface WebhookDelivery {
  readonly status: string;
  readonly alerts: { status: string; labels: Record<string, string> }[];
}

export interface MonitoredSystem {
  readonly dir: string;
  readonly files: Readonly<Record<string, string>>;
  readonly servicePorts: Readonly<Record<ServiceName, number>>;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** Every notification Alertmanager posted to the dev webhook receiver. */
  readonly deliveries: WebhookDelivery[];
  serviceUrl(name: ServiceName): string;
  stopService(name: ServiceName): Promise<void>;
  /** Instant query; rejects on a query error. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

// Alerts wait `for:` minutes in production; here seconds show the same behaviour. Ten 1 s scrapes
// in a row must fail before a target counts as down, so a loaded machine's slow scrape is not an outage.
const TEST_FOR = "10s";

function rewritePrometheus(yaml: string, targets: Record<string, string[]>): string {
  const config = parse(yaml);
  config.global.scrape_interval = "1s";
  config.global.evaluation_interval = "1s";
  config.alerting.alertmanagers[0].static_configs[0].targets = targets.alertmanager;
  for (const job of config.scrape_configs) {
    const local = targets[job.job_name];
    if (!local) throw new Error(`prometheus.yml has a job "${job.job_name}" the test does not run`);
    job.static_configs[0].targets = local;
  }
  return stringify(config);
}

function rewriteRules(yaml: string): string {
  const config = parse(yaml);
  for (const group of config.groups) {
    group.interval = "1s";
    for (const rule of group.rules) if (rule.alert && rule.for) rule.for = TEST_FOR;
  }
  return stringify(config);
}

function rewriteAlertmanager(yaml: string, webhookUrl: string): string {
  const config = parse(yaml);
  const shorten = (route: any) => {
    route.group_wait = "1s";
    route.group_interval = "1s";
    route.repeat_interval = "1m";
    for (const child of route.routes ?? []) shorten(child);
  };
  shorten(config.route);
  for (const receiver of config.receivers) {
    for (const hook of receiver.webhook_configs ?? []) hook.url = webhookUrl;
  }
  return stringify(config);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok());
  });
}

export async function startMonitoredSystem(): Promise<MonitoredSystem> {
  const env = ENVIRONMENTS.dev;
  const dir = mkdtempSync(join(tmpdir(), "acgs-e2e-"));
  const stack = new PlatformStack(new App({ outdir: join(dir, "cdktf.out") }), { env, sourceHash: () => "e2e".padEnd(64, "0") });
  const files = stack.monitoringFiles;
  const processes = new Map<string, ServerProcess>();
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let exporters: Exporters | undefined;
  const deliveries: WebhookDelivery[] = [];
  const webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      deliveries.push(JSON.parse(body));
      res.end("ok");
    });
  });

  const stop = async () => {
    await Promise.all([...processes.values()].map((p) => p.stop("SIGTERM", 10_000)));
    await exporters?.stop();
    await Promise.all([postgres?.stop(), redis?.stop()]);
    await new Promise((r) => webhook.close(() => r(undefined)));
    // ACGS_E2E_KEEP=1 keeps the logs and configuration for a look after a failure.
    if (process.env.ACGS_E2E_KEEP === "1") process.stderr.write(`e2e files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };

  const spawn = (name: string, command: string, args: string[], environment: Record<string, string> = {}) => {
    const proc = spawnServer("/usr/bin/env", [...Object.entries(environment).map(([k, v]) => `${k}=${v}`), command, ...args], {
      cwd: ROOT,
      logFile: join(dir, `${name}.log`),
    });
    processes.set(name, proc);
    return proc;
  };

  try {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    exporters = await startExporters({ postgresUrl: postgres.url, redisUrl: redis.url, dir });
    const servicePorts = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s.name, await freePort()]))) as Record<ServiceName, number>;
    const [prometheusPort, alertmanagerPort, webhookPort] = [await freePort(), await freePort(), await freePort()];
    await listen(webhook, webhookPort);

    // The services, configured as the dev stack configures their containers, on loopback.
    for (const s of SERVICES) {
      spawn(s.name, TSX, [join("services", s.name, "main.ts")], {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        PORT: String(servicePorts[s.name]),
        ACGS_ENVIRONMENT: env.name,
        HASH_STRICT: String(env.hashStrict),
        AUTH_REQUIRED: String(env.authRequired),
        RATE_LIMIT_PER_MINUTE: "0",
        LOG_LEVEL: "warn",
        AUTH_JWKS_URL: `http://127.0.0.1:${servicePorts.auth}/.well-known/jwks.json`,
        ...(s.postgres ? { DATABASE_URL: postgres.url } : {}),
        ...(s.redis ? { REDIS_URL: redis.url } : {}),
        ...Object.fromEntries(s.calls.map((peer) => [serviceUrlVariable(peer), `http://127.0.0.1:${servicePorts[peer]}`])),
      });
    }

    const local = (port: number) => [`127.0.0.1:${port}`];
    const targets: Record<string, string[]> = {
      ...Object.fromEntries(SERVICES.map((s) => [s.name, local(servicePorts[s.name])])),
      prometheus: local(prometheusPort),
      alertmanager: local(alertmanagerPort),
      "node-exporter": local(exporters.node.port),
      "postgres-exporter": local(exporters.postgres.port),
      "redis-exporter": local(exporters.redis.port),
    };
    const write = (path: string, content: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    };
    write("prometheus/prometheus.yml", rewritePrometheus(files["prometheus.yml"], targets));
    for (const [path, content] of Object.entries(files)) {
      if (path.startsWith("rules/")) write(`prometheus/${path}`, rewriteRules(content));
    }
    write("alertmanager/alertmanager.yml", rewriteAlertmanager(files["alertmanager.yml"], `http://127.0.0.1:${webhookPort}/alerts`));

    const alertmanager = spawn("alertmanager", ALERTMANAGER_BIN, [
      `--config.file=${join(dir, "alertmanager/alertmanager.yml")}`,
      `--storage.path=${join(dir, "alertmanager/data")}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      "--cluster.listen-address=",
    ]);
    const prometheus = spawn("prometheus", PROMETHEUS_BIN, [
      `--config.file=${join(dir, "prometheus/prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "prometheus/data")}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ]);

    const answers = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
    // Ready means this service answers on its port, not some other server that took the port first.
    const isService = (name: string) => async () => {
      const response = await fetch(`http://127.0.0.1:${servicePorts[name as ServiceName]}/health`, { signal: AbortSignal.timeout(2000) });
      return response.status === 200 && ((await response.json()) as { service?: string }).service === name;
    };
    await Promise.all([
      waitUntil("alertmanager", answers(`http://127.0.0.1:${alertmanagerPort}/-/ready`), { timeoutMs: 30_000, abandon: () => alertmanager.exitReason() }),
      waitUntil("prometheus", answers(`http://127.0.0.1:${prometheusPort}/-/ready`), { timeoutMs: 30_000, abandon: () => prometheus.exitReason() }),
      ...SERVICES.map((s) =>
        waitUntil(s.name, async () => (await isService(s.name)()) && (await answers(`http://127.0.0.1:${servicePorts[s.name]}/ready`)()), {
          timeoutMs: 90_000,
          intervalMs: 200,
          abandon: () => processes.get(s.name)!.exitReason(),
        }),
      ),
    ]);

    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    return {
      dir,
      files,
      servicePorts,
      prometheusUrl,
      alertmanagerUrl: `http://127.0.0.1:${alertmanagerPort}`,
      deliveries,
      serviceUrl: (name) => `http://127.0.0.1:${servicePorts[name]}`,
      stopService: (name) => processes.get(name)!.stop("SIGTERM", 10_000),
      async query(expr) {
        const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await response.json()) as any;
        if (body.status !== "success") throw new Error(`query ${expr}: ${body.error ?? response.status}`);
        return body.data.result;
      },
      stop,
    };
  } catch (error) {
    // The temp dir goes with stop(): keep the end of each log in the error.
    const logs = [...processes.keys()]
      .map((name) => {
        const file = join(dir, `${name}.log`);
        const tail = existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-15).join("\n") : "(no log)";
        return `--- ${name} ---\n${tail}`;
      })
      .join("\n");
    await stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}
