// Configuration from environment variables: defaults from the catalog, and every bad value
// refused at start with a message naming the variable and the service.
import { serviceUrlVariable } from "../../services/catalog";
import { loadConfig, ServiceConfigError } from "../../services/kit/config";

function problemOf(service: Parameters<typeof loadConfig>[0], env: Record<string, string>): ServiceConfigError {
  try {
    loadConfig(service, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceConfigError);
    return error as ServiceConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe("service configuration", () => {
  it("defaults to the catalog's dev port and the embedded, permissive dev settings", () => {
    const config = loadConfig("coordinator", {});
    expect(config).toMatchObject({
      port: 8008,
      environment: "dev",
      hashStrict: false,
      authRequired: false,
      databaseUrl: undefined,
      pgliteDataDir: undefined,
      redisUrl: undefined,
      bodyLimitBytes: 1048576,
      rateLimitPerMinute: 1000,
      rateLimitBurst: 200,
      logLevel: "info",
      shutdownTimeoutMs: 10000,
      serviceUrls: { blackboard: "http://127.0.0.1:8010" },
    });
    expect(config.service.name).toBe("coordinator");
  });

  it("reads every variable of the contract", () => {
    const config = loadConfig("governance-synthesis", {
      PORT: "8004",
      ACGS_ENVIRONMENT: "production",
      HASH_STRICT: "true",
      AUTH_REQUIRED: "true",
      DATABASE_URL: "postgresql://acgs:secret@db:5440/acgs",
      PGLITE_DATA_DIR: "/data",
      REDIS_URL: "redis://:pw@cache:6390/0",
      BODY_LIMIT_BYTES: "2048",
      RATE_LIMIT_PER_MINUTE: "600",
      RATE_LIMIT_BURST: "50",
      LOG_LEVEL: "warn",
      SHUTDOWN_TIMEOUT_MS: "0",
      SERVICE_URL_CONSTITUTIONAL_AI: "http://constitutional-ai:8001/",
      SERVICE_URL_FORMAL_VERIFICATION: "https://fv.acgs.internal",
      UNRELATED: "ignored",
    });
    expect(config).toMatchObject({
      port: 8004,
      environment: "production",
      hashStrict: true,
      authRequired: true,
      databaseUrl: "postgresql://acgs:secret@db:5440/acgs",
      pgliteDataDir: "/data",
      redisUrl: "redis://:pw@cache:6390/0",
      bodyLimitBytes: 2048,
      rateLimitPerMinute: 600,
      rateLimitBurst: 50,
      logLevel: "warn",
      shutdownTimeoutMs: 0,
      serviceUrls: { "constitutional-ai": "http://constitutional-ai:8001", "formal-verification": "https://fv.acgs.internal" },
    });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig("auth", { PORT: "", HASH_STRICT: "", DATABASE_URL: "" })).toMatchObject({
      port: 8000,
      hashStrict: false,
      databaseUrl: undefined,
    });
  });

  it("names the variable of a called service in upper snake case", () => {
    expect(serviceUrlVariable("constitutional-ai")).toBe("SERVICE_URL_CONSTITUTIONAL_AI");
    expect(serviceUrlVariable("blackboard")).toBe("SERVICE_URL_BLACKBOARD");
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "0"],
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["ACGS_ENVIRONMENT", "qa"],
    ["HASH_STRICT", "maybe"],
    ["HASH_STRICT", "TRUE"],
    ["AUTH_REQUIRED", "yes"],
    ["DATABASE_URL", "mysql://db:3306/acgs"],
    ["DATABASE_URL", "not a url"],
    ["REDIS_URL", "http://cache:6379"],
    ["BODY_LIMIT_BYTES", "0"],
    ["BODY_LIMIT_BYTES", "1MB"],
    ["RATE_LIMIT_PER_MINUTE", "-5"],
    ["RATE_LIMIT_BURST", "0"],
    ["LOG_LEVEL", "verbose"],
    ["SHUTDOWN_TIMEOUT_MS", "soon"],
  ])("refuses %s=%s naming the variable and the service", (variable, value) => {
    const error = problemOf("auth", { [variable]: value });
    expect(error.message).toMatch(new RegExp(`^invalid configuration of service "auth": ${variable}: \\S`));
    expect(error.problems).toEqual([{ variable, message: expect.any(String) }]);
  });

  it("says what a port must be", () => {
    expect(problemOf("auth", { PORT: "abc" }).message).toBe(
      'invalid configuration of service "auth": PORT: must be an integer port between 1 and 65535',
    );
  });

  it("refuses a bad URL of a called service", () => {
    const error = problemOf("coordinator", { SERVICE_URL_BLACKBOARD: "blackboard:8010" });
    expect(error.message).toContain('service "coordinator": SERVICE_URL_BLACKBOARD: must be a URL starting with http:// or https://');
  });

  it("reports every bad variable at once", () => {
    const error = problemOf("integrity", { PORT: "x", LOG_LEVEL: "loud", HASH_STRICT: "1" });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(["HASH_STRICT", "LOG_LEVEL", "PORT"]);
  });

  it("does not echo a database URL, which may hold a password, in the message", () => {
    const error = problemOf("auth", { DATABASE_URL: "mysql://root:hunter2@db/acgs" });
    expect(error.message).not.toContain("hunter2");
  });
});
