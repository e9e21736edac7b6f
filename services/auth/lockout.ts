// Lockout after failed logins (SPEC: 3 failures lock the account for 15 minutes). Pure functions
// of the stored state and the time, so the rule is tested without waiting a quarter of an hour.

export const MAX_FAILED_LOGINS = 3;
export const LOCKOUT_MS = 15 * 60_000;

export interface LoginState {
  readonly failedLogins: number;
  readonly lockedUntil: Date | null;
}

/** Seconds until the account unlocks; 0 when it is not locked. */
export function lockedForSeconds(state: LoginState, now: number): number {
  const until = state.lockedUntil?.getTime() ?? 0;
  return until > now ? Math.ceil((until - now) / 1000) : 0;
}

/** The state after one more failed login; the failure that reaches the maximum starts the lock. */
export function afterFailedLogin(state: LoginState, now: number): LoginState {
  // A lock that has run out starts a fresh count.
  const previous = state.lockedUntil !== null && state.lockedUntil.getTime() <= now ? 0 : state.failedLogins;
  const failedLogins = previous + 1;
  return { failedLogins, lockedUntil: failedLogins >= MAX_FAILED_LOGINS ? new Date(now + LOCKOUT_MS) : null };
}
