// Node's ServerResponse that adds the contract's headers (constitutional hash, request id) to
// every answer as it is written. Setting them with setHeader() beforehand works too, but makes
// writeHead() take Node's slow path (every header of the answer re-validated through setHeader),
// which cost the contract path more than any other single step. start-service uses this class.
import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { CONSTITUTIONAL_HASH_HEADER } from "./hash-guard";

export const REQUEST_ID_HEADER = "X-Request-Id";

type HeaderList = OutgoingHttpHeaders | OutgoingHttpHeader[];

export class ContractResponse extends ServerResponse {
  /** Set by the app before it answers: the answer then carries it and the constitutional hash. */
  requestId: string | undefined = undefined;

  override writeHead(statusCode: number, reason?: string | HeaderList, headers?: HeaderList): this {
    const requestId = this.requestId;
    if (requestId === undefined) return super.writeHead(statusCode, reason as string, headers);
    const message = typeof reason === "string" ? reason : undefined;
    const given = typeof reason === "string" ? headers : reason;
    let answer: HeaderList | undefined;
    if (given === undefined || Array.isArray(given)) {
      // Rare (an implicit header, raw header pairs): the progressive API, correct if slower.
      if (!this.hasHeader(CONSTITUTIONAL_HASH_HEADER)) this.setHeader(CONSTITUTIONAL_HASH_HEADER, CONSTITUTIONAL_HASH);
      if (!this.hasHeader(REQUEST_ID_HEADER)) this.setHeader(REQUEST_ID_HEADER, requestId);
      answer = given;
    } else {
      // Added to the answer's own object (@hono/node-server adds Content-Length to it the same
      // way); the answer's own values win, as they would over setHeader().
      if (!hasHeader(given, "x-constitutional-hash")) given["X-Constitutional-Hash"] = CONSTITUTIONAL_HASH;
      if (!hasHeader(given, "x-request-id")) given["X-Request-Id"] = requestId;
      answer = given;
    }
    return message === undefined ? super.writeHead(statusCode, answer) : super.writeHead(statusCode, message, answer);
  }
}

// Case-insensitive; answers carry a few headers, so a scan is cheap.
function hasHeader(headers: OutgoingHttpHeaders, lowerCaseName: string): boolean {
  for (const name in headers) if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return true;
  return false;
}
