// JSON lines on stdout: one object per event, so log shippers need no parsing rules.
import type { LogLevel } from "./config";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  readonly service: string;
  readonly level?: LogLevel;
  /** Where a finished line goes (tests capture it); default stdout. */
  readonly write?: (line: string) => void;
}

// stdout to a pipe or file is synchronous on Linux: one write per line would be one syscall per
// request. Lines written in the same tick go out in one write; what is pending at exit too.
let pending = "";
let scheduled = false;
function flushStdout(): void {
  scheduled = false;
  if (pending === "") return;
  const out = pending;
  pending = "";
  process.stdout.write(out);
}
function batchedStdout(line: string): void {
  if (pending === "" && !scheduled) {
    scheduled = true;
    setImmediate(flushStdout);
  }
  pending += line;
}
process.on("exit", flushStdout);

// Lines come many per millisecond under load: the timestamp is formatted once per millisecond.
let isoAt = -1;
let iso = "";
function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

export function createLogger({ service, level = "info", write }: LoggerOptions): Logger {
  const sink = write ?? batchedStdout;
  const threshold = RANK[level];
  // A precomputed prefix keeps the per-line cost to one stringify of the fields.
  const servicePart = `,"service":${JSON.stringify(service)},"msg":`;
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < threshold) return;
    let line = `{"time":"${isoNow()}","level":"${lvl}"${servicePart}${JSON.stringify(msg)}`;
    if (fields) {
      const rest = JSON.stringify(fields, errorReplacer);
      if (rest.length > 2) line += `,${rest.slice(1, -1)}`;
    }
    sink(`${line}}\n`);
  };
  return {
    level,
    enabled: (lvl) => RANK[lvl] >= threshold,
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

// Error objects stringify to {} by default; keep what an operator needs.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  level: "error",
  enabled: () => false,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
