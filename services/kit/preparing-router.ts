// Hono's default router, with every handler wrapped so that the first one a request reaches runs
// `prepare` on its Context (the kit sets the request id and token gate there). That replaces a
// catch-all middleware: each middleware Hono composes costs promises and a dispatch per request,
// and a route with a single handler keeps Hono's synchronous fast path.
import type { Context, MiddlewareHandler, Next } from "hono";
import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

/** What Hono stores per route: the handler and the route's description (read by matchedRoutes()). */
type Entry = [MiddlewareHandler, unknown];

/**
 * Runs once per request, before its first handler, with the pattern of the last route the request
 * matched (its metrics label); returns undefined to go on, or a promise of what the handler chain
 * answers when it takes over calling `run` itself (e.g. to count a body).
 */
export type Prepare = (c: Context, route: string, run: () => ReturnType<MiddlewareHandler>) => ReturnType<MiddlewareHandler> | undefined;

export interface PreparingRouter extends Router<Entry> {
  /** The pattern of the last route a request to (method, path) matches, undefined when none does. */
  routeOf(method: string, path: string): string | undefined;
}

export function preparingRouter(prepare: Prepare, isPrepared: (c: Context) => boolean): PreparingRouter {
  const inner = new SmartRouter<Entry>({ routers: [new RegExpRouter(), new TrieRouter()] });
  // Hono calls a request's first handler synchronously right after match(), with nothing of the
  // app's in between: that handler's prepare gets the route of this match. (matchedRoutes(c)
  // would find it too, for the price of a HonoRequest and an array per request.)
  let matchedRoute: string | undefined;
  const wrap = (handler: MiddlewareHandler): MiddlewareHandler =>
    function prepared(c: Context, next: Next) {
      if (isPrepared(c)) return handler(c, next);
      return prepare(c, matchedRoute ?? "", () => handler(c, next)) ?? handler(c, next);
    };
  return {
    name: `preparing ${inner.name}`,
    add(method, path, [handler, route]) {
      inner.add(method, path, [wrap(handler), route]);
    },
    match(method, path): Result<Entry> {
      const result = inner.match(method, path);
      matchedRoute = lastRoute(result);
      return result;
    },
    routeOf: (method, path) => lastRoute(inner.match(method, path)),
  };
}

function lastRoute([matches]: Result<Entry>): string | undefined {
  return (matches.at(-1)?.[0][1] as { path?: string } | undefined)?.path;
}
