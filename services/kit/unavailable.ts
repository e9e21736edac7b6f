// A dependency the request needs is down: the answer is 503 with Retry-After, never a 500 and
// never a half answer. Routes throw it; the kit's error handler turns it into the response.

export class DependencyUnavailableError extends Error {
  constructor(
    /** The dependency, as /health names it: "postgres", "redis", or a service name. */
    readonly dependency: string,
    readonly reason: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(`${dependency} is unavailable: ${reason}`);
    this.name = "DependencyUnavailableError";
  }
}

// Network errors, and PostgreSQL's connection-exception (08) and shutdown (57P) classes.
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "EAI_AGAIN"]);
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i;

/** True when `error` says the database cannot be reached, as opposed to a bad query. */
export function isDatabaseConnectionError(error: unknown): boolean {
  // Duck-typed: errors of Node's own sockets may come from another realm (jest's sandbox, vm).
  if (typeof error !== "object" || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08") || code.startsWith("57P"))) return true;
  if (Array.isArray(errors)) return errors.some(isDatabaseConnectionError);
  return typeof message === "string" && CONNECTION_MESSAGES.test(message);
}

/** The error a route's failure maps to, when it is a dependency being down; undefined otherwise. */
export function asDependencyUnavailable(error: unknown): DependencyUnavailableError | undefined {
  if (error instanceof DependencyUnavailableError) return error;
  if (isDatabaseConnectionError(error)) return new DependencyUnavailableError("postgres", (error as Error).message);
  return undefined;
}
