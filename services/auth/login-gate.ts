// Admission of logins. A login holds a database connection and its account's row lock through the
// password check (scrypt, about a quarter of a second of a core), so that parallel guesses count
// against one lockout. Unchecked, a burst of logins for one account took every connection of the
// pool, all waiting on that one row, and every other login, refresh and registration then timed
// out as if PostgreSQL were down (503). Here logins for one username run one at a time in this
// process (the row lock still orders them across replicas), at most `inFlight` logins run at all
// (scrypt runs on libuv's four threads: more would only queue there, holding connections), and
// the rest wait in memory, up to a bound per username and one overall. Beyond a bound a login is
// refused at once with LoginsBusy (429 with Retry-After), and nothing was checked or counted.

export class LoginsBusy extends Error {
  constructor(
    readonly scope: "account" | "service",
    readonly retryAfterSeconds: number,
  ) {
    super(scope === "account" ? "too many logins for this account at once" : "too many logins at once");
  }
}

export interface LoginGateOptions {
  /** Logins running at once (each holds a database connection). */
  readonly inFlight?: number;
  /** Logins for one username waiting behind the one running. */
  readonly waitingPerAccount?: number;
  /** Logins waiting in all. */
  readonly waiting?: number;
}

export interface LoginGate {
  /** Runs `login` in its turn; rejects with LoginsBusy, without running it, when a bound is reached. */
  run<T>(username: string, login: () => Promise<T>): Promise<T>;
}

interface Account {
  /** Logins of this username admitted here, the running one included. */
  admitted: number;
  /** Resolvers of the ones waiting for the account's turn, in order. */
  readonly turns: (() => void)[];
}

export function createLoginGate({ inFlight = 4, waitingPerAccount = 8, waiting = 256 }: LoginGateOptions = {}): LoginGate {
  const accounts = new Map<string, Account>();
  const slots: (() => void)[] = [];
  let running = 0;
  let queued = 0;

  const slot = () => (running < inFlight ? (running++, Promise.resolve()) : new Promise<void>((resolve) => slots.push(resolve)));
  const releaseSlot = () => {
    const next = slots.shift();
    if (next) next(); // the slot passes on: running stays
    else running--;
  };

  return {
    async run(username, login) {
      // Usernames are unique whatever their case, so one account's logins share one turn.
      const key = username.toLowerCase();
      const account = accounts.get(key) ?? { admitted: 0, turns: [] };
      if (account.admitted > waitingPerAccount) throw new LoginsBusy("account", 1);
      if (queued >= waiting) throw new LoginsBusy("service", 1);
      accounts.set(key, account);
      account.admitted++;
      queued++;
      try {
        if (account.admitted > 1) await new Promise<void>((resolve) => account.turns.push(resolve));
        await slot();
      } finally {
        queued--;
      }
      try {
        return await login();
      } finally {
        releaseSlot();
        account.admitted--;
        const next = account.turns.shift();
        if (next) next();
        else if (account.admitted === 0) accounts.delete(key);
      }
    },
  };
}
