// The roles of ACGS accounts and the authorization level each carries (SPEC section 3, auth):
// a route asks for a minimum level, e.g. requireLevel(ROLE_LEVELS.specialist).

export const ROLE_LEVELS = {
  orchestrator: 10,
  specialist: 7,
  worker: 5,
  observer: 3,
} as const;

export type Role = keyof typeof ROLE_LEVELS;

export const ROLES = ["orchestrator", "specialist", "worker", "observer"] as const satisfies readonly Role[];

/** Whether an account is a person or an autonomous agent. */
export const ACCOUNT_KINDS = ["user", "agent"] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
