// An open-loop load generator: requests leave at an even pace (request i at start + i / rate),
// whatever the server's answers do, over a pool of keep-alive connections. autocannon's
// `overallRate` is no substitute: each connection sends its whole per-second quota as fast as it
// can at the start of each second, so its latencies are those of a burst at full load.
// A request's latency runs from the moment it is handed to the connection pool to the end of its
// answer, so time spent waiting for a free connection (the server being slow) counts; how late
// the generator's timer was in sending it (Node's timers fire up to a millisecond or so late) is
// reported apart, so that a busy generator is not mistaken for a slow server.
import { Agent, request as httpRequest } from "node:http";

export interface OpenLoopRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface OpenLoopOptions {
  /** Requests per second offered. */
  readonly rate: number;
  readonly seconds: number;
  /** At most this many connections; a request due while all are busy waits for one. */
  readonly connections: number;
}

export interface OpenLoopResult {
  readonly sent: number;
  /** Answers with a 2xx status. */
  readonly ok: number;
  /** Other statuses and failed requests. */
  readonly errors: number;
  /** Latency percentiles in milliseconds, from handing the request over to the answer's end. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The generator's own lag: how late, at worst and at the 99th percentile, a request left. */
  readonly sendLagP99: number;
  readonly sendLagMax: number;
  /** Every answered request's latency in milliseconds, ascending (to pool several runs). */
  readonly latencies: Float64Array;
}

export async function openLoop(baseUrl: string, request: OpenLoopRequest, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(request.path, baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  const headers = request.body === undefined ? request.headers : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) };
  let sent = 0;
  let finished = 0;
  let ok = 0;
  let errors = 0;

  const send = (index: number, due: number) => {
    const handedOver = performance.now();
    lags[index] = handedOver - due;
    let counted = false;
    const done = (success: boolean) => {
      if (counted) return;
      counted = true;
      latencies[finished] = performance.now() - handedOver;
      if (success) ok++;
      else errors++;
      finished++;
    };
    const outgoing = httpRequest(url, { method: request.method, headers, agent }, (answer) => {
      const success = answer.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300;
      answer.resume();
      answer.once("end", () => done(success));
      answer.once("error", () => done(false));
    });
    outgoing.once("error", () => done(false));
    outgoing.end(request.body);
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every request due by now leaves now.
      while (sent < total && start + sent * intervalMs <= now) {
        send(sent, start + sent * intervalMs);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  // The last answers; a request that never ends would hang the bench, so give up after 30 s.
  const deadline = performance.now() + 30_000;
  while (finished < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  const unfinished = sent - finished;

  const sortedLatencies = latencies.slice(0, finished).sort();
  const sortedLags = lags.slice(0, sent).sort();
  return {
    sent,
    ok,
    errors: errors + unfinished,
    p50: percentile(sortedLatencies, 0.5),
    p99: percentile(sortedLatencies, 0.99),
    max: sortedLatencies.at(-1) ?? Number.NaN,
    sendLagP99: percentile(sortedLags, 0.99),
    sendLagMax: sortedLags.at(-1) ?? Number.NaN,
    latencies: sortedLatencies,
  };
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
