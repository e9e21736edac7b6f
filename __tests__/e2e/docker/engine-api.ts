// The Docker Engine API over the daemon's socket: what the Terraform docker provider itself calls,
// for what the command line cannot express (an exec-form health check, an archive upload to "/").
import { request } from "node:http";

export interface EngineResponse {
  readonly status: number;
  readonly body: string;
  json<T = any>(): T;
}

function target(host: string): { socketPath?: string; host?: string; port?: number } {
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port) };
}

/** One API call; a JSON object body is sent as JSON, a Buffer as a tar archive. */
export function engineRequest(
  host: string,
  method: string,
  path: string,
  body?: object | Buffer,
  timeoutMs = 60_000,
): Promise<EngineResponse> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const contentType = Buffer.isBuffer(body) ? "application/x-tar" : "application/json";
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...target(host),
        method,
        path,
        timeout: timeoutMs,
        headers: payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.once("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text, json: () => (text ? JSON.parse(text) : undefined) }),
        );
      },
    );
    req.once("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.once("error", reject);
    req.end(payload);
  });
}

/** Like engineRequest, but a status of 300 or more throws with the engine's message. */
export async function engineCall(host: string, method: string, path: string, body?: object | Buffer): Promise<EngineResponse> {
  const response = await engineRequest(host, method, path, body);
  if (response.status >= 300) {
    let message = response.body;
    try {
      message = response.json().message ?? message;
    } catch {
      // not JSON: keep the raw text
    }
    throw new Error(`${method} ${path} answered ${response.status}: ${message.trim()}`);
  }
  return response;
}
