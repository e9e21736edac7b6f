// Node's ServerResponse that adds the contract's headers (hash, request id) to every answer as it
// is written. Setting them with setHeader() beforehand would work too, but then writeHead() takes
// Node's slow path (each header of the answer re-validated through setHeader), which cost the
// contract path more than any other single step. start-service runs its server with this class.
import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http";

type HeaderList = OutgoingHttpHeaders | OutgoingHttpHeader[];

export class ContractResponse extends ServerResponse {
  /** Headers for this answer, set by the app before it answers; the answer's own ones win. */
  contractHeaders: Readonly<Record<string, string>> | undefined = undefined;

  override writeHead(statusCode: number, reason?: string | HeaderList, headers?: HeaderList): this {
    const extra = this.contractHeaders;
    if (extra === undefined) return super.writeHead(statusCode, reason as string, headers);
    const message = typeof reason === "string" ? reason : undefined;
    const given = typeof reason === "string" ? headers : reason;
    if (given === undefined || Array.isArray(given)) {
      // Rare (an implicit header, or raw header pairs): the progressive API, correct if slower.
      for (const name in extra) if (!this.hasHeader(name)) this.setHeader(name, extra[name]);
      return message === undefined ? super.writeHead(statusCode, given) : super.writeHead(statusCode, message, given);
    }
    const merged: OutgoingHttpHeaders = { ...given };
    for (const name in extra) if (!hasHeaderNamed(given, name)) merged[name] = extra[name];
    return message === undefined ? super.writeHead(statusCode, merged) : super.writeHead(statusCode, message, merged);
  }
}

// Header names are case-insensitive; answers carry a few headers, so a scan is cheap.
function hasHeaderNamed(headers: OutgoingHttpHeaders, name: string): boolean {
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name.toLowerCase()) return true;
  return false;
}
