import { ConfigurationError, ENVIRONMENTS, defineEnvironment, type EnvironmentInput } from "../../environments";
import { dev } from "../../environments/dev";
import { SERVICES } from "../../services/catalog";

/** A deep copy of dev's validated configuration, to break one field at a time. */
function devInput(): EnvironmentInput {
  return structuredClone(dev) as EnvironmentInput;
}

function problemsOf(input: unknown): string {
  try {
    defineEnvironment(input as EnvironmentInput);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("environment configuration", () => {
  it("holds the SPEC's ports, replicas and strictness for each environment", () => {
    const table = Object.values(ENVIRONMENTS).map((e) => ({
      name: e.name,
      postgres: e.postgres.port,
      redis: e.redis.port,
      prometheus: e.monitoring.prometheusPort,
      grafana: e.monitoring.grafanaPort,
      alertmanager: e.monitoring.alertmanagerPort,
      replicas: e.services.auth.replicas,
      strict: e.hashStrict,
      auth: e.authRequired,
    }));
    expect(table).toEqual([
      { name: "dev", postgres: 5432, redis: 6379, prometheus: 9090, grafana: 3000, alertmanager: 9093, replicas: 1, strict: false, auth: false },
      { name: "staging", postgres: 5439, redis: 6389, prometheus: 9090, grafana: 3000, alertmanager: 9093, replicas: 2, strict: true, auth: true },
      { name: "production", postgres: 5440, redis: 6390, prometheus: 9091, grafana: 3001, alertmanager: 9093, replicas: 3, strict: true, auth: true },
    ]);
    expect(ENVIRONMENTS.production.autoscaling).not.toBeNull();
  });

  it("puts every catalog service on its dev port in dev and its production port elsewhere", () => {
    for (const s of SERVICES) {
      expect(ENVIRONMENTS.dev.services[s.name].port).toBe(s.devPort);
      expect(ENVIRONMENTS.staging.services[s.name].port).toBe(s.productionPort);
      expect(ENVIRONMENTS.production.services[s.name].port).toBe(s.productionPort);
    }
    expect(ENVIRONMENTS.dev.services.auth.port).toBe(8000);
    expect(ENVIRONMENTS.production.services.auth.port).toBe(8016);
  });

  it("routes production's critical alerts to the pager and warnings to chat", () => {
    const { alerting } = ENVIRONMENTS.production;
    const kindOf = (name: string) => alerting.receivers.find((r) => r.name === name)?.kind;
    expect(kindOf(alerting.routes.find((r) => r.severity === "critical")!.receiver)).toBe("pager");
    expect(kindOf(alerting.routes.find((r) => r.severity === "warning")!.receiver)).toBe("chat");
  });

  it("refuses a port used twice, naming the environment and both fields", () => {
    const input = devInput();
    input.redis.port = input.services.integrity.port;
    expect(problemsOf(input)).toMatch(/environment "dev"[\s\S]*redis\.port: port 8002 is already used by services\.integrity\.port/);
  });

  it("refuses replicas below 1, naming the field path", () => {
    const input = { ...devInput(), name: "staging" as const };
    input.services.blackboard.replicas = 0;
    expect(problemsOf(input)).toMatch(/environment "staging"[\s\S]*services\.blackboard\.replicas: must be at least 1/);
  });

  it("refuses an unknown service name", () => {
    const input = devInput() as any;
    input.services["policy-enforcer"] = { port: 8099, replicas: 1, memoryMb: 256, cpus: 0.5 };
    expect(problemsOf(input)).toMatch(/services\.policy-enforcer: unknown service \(known services: auth, /);
  });

  it("refuses a missing service", () => {
    const input = devInput() as any;
    delete input.services.coordinator;
    expect(problemsOf(input)).toMatch(/services\.coordinator: /);
  });

  it("refuses a route naming a receiver nobody defines", () => {
    const input = devInput();
    input.alerting.routes[0].receiver = "pagerduty";
    expect(problemsOf(input)).toMatch(/alerting\.routes\.0\.receiver: names receiver "pagerduty", which is not defined \(defined: local-webhook, blackhole\)/);
  });

  it("refuses an absolute state path, which would make the synth machine-specific", () => {
    const input = devInput();
    input.stateBackend = { kind: "local", path: "/home/me/terraform.tfstate" };
    expect(problemsOf(input)).toMatch(/stateBackend\.path: must be a relative path/);
  });

  it("lists every problem in one message", () => {
    const input = devInput();
    input.services.auth.replicas = 0;
    input.monitoring.grafanaPort = 70000;
    const message = problemsOf(input);
    expect(message).toContain("services.auth.replicas");
    expect(message).toContain("monitoring.grafanaPort: must be a port between 1 and 65535");
  });
});
