// The nine ACGS services: the one list that stacks, monitoring and operations read.

export const CONSTITUTIONAL_HASH = "cdd01ef066bc6cf2";

export const SERVICE_NAMES = [
  "auth",
  "constitutional-ai",
  "integrity",
  "formal-verification",
  "governance-synthesis",
  "policy-governance",
  "evolutionary-computation",
  "coordinator",
  "blackboard",
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceDefinition {
  readonly name: ServiceName;
  readonly description: string;
  /** Port in dev (the seeds' dev ports). */
  readonly devPort: number;
  /** Port in production; staging uses it too. */
  readonly productionPort: number;
  /** Needs PostgreSQL to accept writes (readiness fails without it). */
  readonly postgres: boolean;
  /** Uses Redis as a cache (optional: the service keeps answering when it is down). */
  readonly redis: boolean;
  /** Services this one calls. */
  readonly calls: readonly ServiceName[];
}

export const SERVICES: readonly ServiceDefinition[] = [
  {
    name: "auth",
    description: "users and agents, login, JWT access and refresh tokens, roles, JWKS",
    devPort: 8000,
    productionPort: 8016,
    postgres: true,
    redis: false,
    calls: [],
  },
  {
    name: "constitutional-ai",
    description: "versioned constitution; validates proposed actions against it",
    devPort: 8001,
    productionPort: 8001,
    postgres: true,
    redis: true,
    calls: [],
  },
  {
    name: "integrity",
    description: "append-only, hash-chained audit log of governance decisions",
    devPort: 8002,
    productionPort: 8002,
    postgres: true,
    redis: false,
    calls: [],
  },
  {
    name: "formal-verification",
    description: "checks a policy set for contradictions, shadowed and unreachable rules",
    devPort: 8003,
    productionPort: 8003,
    postgres: false,
    redis: false,
    calls: [],
  },
  {
    name: "governance-synthesis",
    description: "turns a principle and context into a validated, verified draft policy",
    devPort: 8004,
    productionPort: 8004,
    postgres: false,
    redis: false,
    calls: ["constitutional-ai", "formal-verification"],
  },
  {
    name: "policy-governance",
    description: "policy store and enforcement point: allow/deny decisions",
    devPort: 8005,
    productionPort: 8005,
    postgres: true,
    redis: true,
    calls: [],
  },
  {
    name: "evolutionary-computation",
    description: "tunes policy parameters by seeded evolutionary search over policy-governance's recorded decisions",
    devPort: 8006,
    productionPort: 8006,
    postgres: true,
    redis: false,
    calls: ["policy-governance"],
  },
  {
    name: "coordinator",
    description: "multi-agent task coordination; posts assignments on the blackboard",
    devPort: 8008,
    productionPort: 8008,
    postgres: true,
    redis: false,
    calls: ["blackboard"],
  },
  {
    name: "blackboard",
    description: "shared knowledge space of agents: entries by topic",
    devPort: 8010,
    productionPort: 8010,
    postgres: true,
    redis: true,
    calls: [],
  },
];

/** The environment variable holding the URL of a called service, e.g. SERVICE_URL_CONSTITUTIONAL_AI. */
export function serviceUrlVariable(name: ServiceName): string {
  return `SERVICE_URL_${name.toUpperCase().replace(/-/g, "_")}`;
}

export function serviceDefinition(name: string): ServiceDefinition {
  const service = SERVICES.find((s) => s.name === name);
  if (!service) {
    throw new Error(`unknown service "${name}"; known services: ${SERVICE_NAMES.join(", ")}`);
  }
  return service;
}
