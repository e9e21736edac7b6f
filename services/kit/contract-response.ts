// Node's ServerResponse that adds the contract's headers (constitutional hash, request id) to
// every answer as its header block is made. Setting them with setHeader() beforehand works too,
// but makes writeHead() take Node's slow path (every header of the answer re-validated through
// setHeader); and passing them to writeHead() validates them on every answer although the hash
// is a constant and the request id is either made by the kit or checked against SAFE_REQUEST_ID.
// So they go in as ready lines after the status line, through Node's _storeHeader (the one place
// every header block, writeHead's or implicit, is made). start-service uses this class.
import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http";
import { CONSTITUTIONAL_HASH } from "../catalog";
import { CONSTITUTIONAL_HASH_HEADER } from "./hash-guard";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** Node's header list as _storeHeader gets it: writeHead's object or pairs, or its own [name, value] map. */
type StoredHeaders = OutgoingHttpHeaders | OutgoingHttpHeader[] | [string, OutgoingHttpHeader][] | Record<string, [string, unknown]> | null | undefined;

interface HeaderStore {
  _storeHeader(firstLine: string, headers: StoredHeaders): void;
}

const storeHeader = (ServerResponse.prototype as unknown as Partial<HeaderStore>)._storeHeader;
if (typeof storeHeader !== "function") throw new Error("this Node.js has no ServerResponse#_storeHeader: contract-response.ts needs another way in");

const HASH_LINE = `${CONSTITUTIONAL_HASH_HEADER}: ${CONSTITUTIONAL_HASH}\r\n`;

export class ContractResponse extends ServerResponse {
  /** Set by the app as it takes the request: the answer then carries it too. */
  requestId: string | undefined = undefined;

  // Every answer carries the hash, even one made before the app saw the request (a 400 for a
  // malformed target, a 500 of the listener's own). The answer's own values win, as they would
  // over setHeader().
  _storeHeader(firstLine: string, headers: StoredHeaders): void {
    let lines = firstLine;
    if (!carries(headers, "x-constitutional-hash")) lines += HASH_LINE;
    const requestId = this.requestId;
    if (requestId !== undefined && !carries(headers, "x-request-id")) lines += `${REQUEST_ID_HEADER}: ${requestId}\r\n`;
    return storeHeader!.call(this, lines, headers);
  }
}

// Case-insensitive; answers carry a few headers, so a scan is cheap.
function carries(headers: StoredHeaders, lowerCaseName: string): boolean {
  if (headers === null || headers === undefined) return false;
  if (Array.isArray(headers)) {
    // Pairs ([name, value][]) or a flat [name, value, name, value] list.
    const pairs = headers.length > 0 && Array.isArray(headers[0]);
    for (let i = 0; i < headers.length; i += pairs ? 1 : 2) {
      const name = pairs ? (headers[i] as [string, unknown])[0] : headers[i];
      if (typeof name === "string" && name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return true;
    }
    return false;
  }
  // Node's own map is keyed by lower-case names; writeHead's object by the names as given.
  for (const name in headers) if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return true;
  return false;
}
