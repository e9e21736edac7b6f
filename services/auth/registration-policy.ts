// Who may register whom. The very first account bootstraps the system and must be an orchestrator
// (nobody could register anyone otherwise); after it, registering needs a token: an orchestrator
// registers any role, a specialist registers workers and observers, the others nobody.
import type { Principal } from "../kit/access-token";
import { ROLE_LEVELS, type Role } from "../kit/roles";

export type RegistrationVerdict =
  | { readonly allowed: true; readonly bootstrap: boolean }
  | { readonly allowed: false; readonly status: 401 | 403; readonly body: Record<string, unknown> };

/** The level a caller needs to register an account of `role`. */
export function levelToRegister(role: Role): number {
  return ROLE_LEVELS[role] >= ROLE_LEVELS.specialist ? ROLE_LEVELS.orchestrator : ROLE_LEVELS.specialist;
}

export function registrationVerdict(caller: Principal | undefined, role: Role, accountsExist: boolean): RegistrationVerdict {
  const requiredLevel = levelToRegister(role);
  if (caller === undefined) {
    if (accountsExist) {
      return { allowed: false, status: 401, body: { error: "registering an account needs a bearer token", requiredLevel } };
    }
    if (role !== "orchestrator") {
      return { allowed: false, status: 403, body: { error: "the first account must be an orchestrator", field: "role" } };
    }
    return { allowed: true, bootstrap: true };
  }
  if (caller.level < requiredLevel) {
    return {
      allowed: false,
      status: 403,
      body: { error: `registering a ${role} needs authorization level ${requiredLevel}`, requiredLevel, level: caller.level, role: caller.role },
    };
  }
  return { allowed: true, bootstrap: false };
}
