// Where an HTTP/1.1 answer ends, for the open-loop generator: it needs the status and the end of
// the body, nothing else. Bodies framed by Content-Length or chunked (trailers allowed); interim
// 1xx answers are skipped. A body that runs until the connection closes is refused ("invalid"),
// as is a head that is not HTTP: the servers measured here never send either.
const HEAD_END = Buffer.from("\r\n\r\n");
const LINE_END = Buffer.from("\r\n");
const MAX_HEAD = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

export type FrameResult = number | "invalid" | undefined;

export class AnswerFrame {
  /** Bytes received and not yet consumed. */
  private pending: Buffer = Buffer.alloc(0);
  /** 0 while reading a head. */
  private status = 0;
  private chunked = false;
  /** Body bytes still to come (a Content-Length body, or the rest of a chunk with its CRLF). */
  private remaining = 0;
  /** After the last chunk: the trailers, up to an empty line. */
  private inTrailers = false;
  /** The last answer asked to close the connection. */
  closes = false;

  /** Takes the next bytes; answers the status once an answer is complete, else undefined. */
  push(chunk: Buffer): FrameResult {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.status === 0) {
        const head = this.readHead();
        if (head !== "complete") return head;
        if (this.status < 200) {
          this.status = 0; // interim (100 Continue and the like): its real answer follows
          continue;
        }
        if (!this.chunked && this.remaining === 0) return this.complete();
      }
      if (!this.chunked) {
        const taken = Math.min(this.remaining, this.pending.length);
        this.remaining -= taken;
        this.pending = this.pending.subarray(taken);
        return this.remaining === 0 ? this.complete() : undefined;
      }
      const step = this.readChunked();
      if (step !== "complete") return step;
      return this.complete();
    }
  }

  private readHead(): "complete" | FrameResult {
    const end = this.pending.indexOf(HEAD_END);
    if (end < 0) return this.pending.length > MAX_HEAD ? "invalid" : undefined;
    const lines = this.pending.toString("latin1", 0, end).split("\r\n");
    this.pending = this.pending.subarray(end + HEAD_END.length);
    const status = STATUS_LINE.exec(lines[0]);
    if (!status) return "invalid";
    this.status = Number(status[1]);
    this.chunked = false;
    this.closes = lines[0].startsWith("HTTP/1.0");
    let length: number | undefined;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") this.chunked = value.split(",").some((v) => v.trim() === "chunked");
      else if (name === "connection") this.closes = value.split(",").some((v) => v.trim() === "close");
    }
    const bodiless = this.status < 200 || this.status === 204 || this.status === 304;
    if (this.chunked || bodiless) this.remaining = 0;
    else if (length !== undefined && Number.isSafeInteger(length) && length >= 0) this.remaining = length;
    else return "invalid";
    this.inTrailers = false;
    return "complete";
  }

  private readChunked(): "complete" | FrameResult {
    for (;;) {
      if (this.remaining > 0) {
        const taken = Math.min(this.remaining, this.pending.length);
        this.remaining -= taken;
        this.pending = this.pending.subarray(taken);
        if (this.remaining > 0) return undefined;
      }
      const end = this.pending.indexOf(LINE_END);
      if (end < 0) return this.pending.length > MAX_HEAD ? "invalid" : undefined;
      const line = this.pending.toString("latin1", 0, end);
      this.pending = this.pending.subarray(end + LINE_END.length);
      if (this.inTrailers) {
        if (line === "") return "complete";
        continue;
      }
      const size = Number.parseInt(line.split(";")[0].trim(), 16);
      if (!Number.isSafeInteger(size) || size < 0) return "invalid";
      if (size === 0) this.inTrailers = true;
      else this.remaining = size + LINE_END.length;
    }
  }

  private complete(): number {
    const status = this.status;
    this.status = 0;
    return status;
  }
}
