// The global Response while the kit's Node listener serves: it keeps a string, byte or stream body
// and its init as given, and builds the WHATWG Response (whose every body becomes a
// ReadableStream) only when something asks for more than status and headers. The listener writes
// the kept body straight to Node's response. Hono's c.json(), c.text() and c.body() make these.
import { delegateToNative } from "./native-delegation";

const NATIVE = Symbol.for("acgs.kit.nativeResponse");

// The runtime's own Response, even if this module was loaded again after installing itself.
const NativeResponse: typeof Response =
  (globalThis.Response as unknown as { [NATIVE]?: typeof Response })[NATIVE] ?? globalThis.Response;

type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** An answer the listener writes itself; `headers` as given to the constructor, or the Headers made of them. */
export interface PlainAnswer {
  readonly status: number;
  readonly body: string | Uint8Array | ReadableStream<Uint8Array> | null;
  headers: HeadersInit | undefined;
  /**
   * Made from another answer with a null body (Hono answers HEAD so, from the GET's answer): that
   * answer's body length, which a HEAD answer's Content-Length states.
   */
  readonly lengthOfSource?: number;
}

type BodyInit = ConstructorParameters<typeof Response>[0];

export class LightResponse {
  /** Until a WHATWG Response is needed: then undefined, and #native answers for everything. */
  #plain: PlainAnswer | undefined;
  #native: Response | undefined;

  constructor(body?: BodyInit, init?: ResponseInit) {
    const kept = body ?? null;
    // (Not instanceof: a fetched Response counts as a LightResponse there, without one's fields.)
    const source = kept === null && typeof init === "object" && init !== null && #plain in init ? (init as LightResponse).#plain : undefined;
    if (source !== undefined) {
      const length = typeof source.body === "string" ? Buffer.byteLength(source.body) : source.body instanceof Uint8Array ? source.body.byteLength : undefined;
      this.#plain = { status: source.status, body: null, headers: new Headers((init as LightResponse).headers), lengthOfSource: length };
      return;
    }
    const status = init?.status ?? 200;
    if (
      (kept === null || typeof kept === "string" || kept instanceof Uint8Array || kept instanceof ReadableStream) &&
      // Anything unusual (a Response as init, a status text, a status to refuse or check) takes
      // the standard's path, with its errors.
      (init === undefined || (!(init instanceof NativeResponse) && init.statusText === undefined)) &&
      Number.isInteger(status) &&
      status >= 200 &&
      status <= 599 &&
      // Within 200..599, the statuses a Response must not have a body with.
      !(kept !== null && (status === 204 || status === 205 || status === 304))
    ) {
      this.#plain = { status, body: kept as PlainAnswer["body"], headers: init?.headers };
    } else {
      this.#native = new NativeResponse(body, init);
    }
  }

  /** What the listener may write as it is, or undefined (write the Response the standard way). */
  static plain(response: unknown): PlainAnswer | undefined {
    return typeof response === "object" && response !== null && #plain in response ? (response as LightResponse).#plain : undefined;
  }

  // A fetched (native) Response is a Response too.
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof NativeResponse;
  }

  get status(): number {
    return this.#plain?.status ?? this.#real().status;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }

  get statusText(): string {
    return this.#plain !== undefined ? "" : this.#real().statusText;
  }

  get headers(): Headers {
    const plain = this.#plain;
    if (plain === undefined) return this.#real().headers;
    if (!(plain.headers instanceof Headers)) {
      const headers = new Headers(plain.headers);
      // As the standard's Response adds it for a string body.
      if (typeof plain.body === "string" && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      plain.headers = headers;
    }
    return plain.headers;
  }

  #real(): Response {
    if (this.#native === undefined) {
      const plain = this.#plain as PlainAnswer;
      this.#native = new NativeResponse(plain.body, { status: plain.status, headers: plain.headers });
      this.#plain = undefined;
    }
    return this.#native;
  }

  /** For the members below: the WHATWG Response, made now if it was not yet. */
  static real(response: LightResponse): Response {
    return response.#real();
  }
}

// Everything else a Response has (body, json(), text(), clone(), ...) comes from the real one.
Object.setPrototypeOf(LightResponse, NativeResponse);
delegateToNative(LightResponse.prototype, NativeResponse.prototype, (self: LightResponse) => LightResponse.real(self));
Object.defineProperty(LightResponse, NATIVE, { value: NativeResponse });

/** Makes `new Response(...)` (Hono's c.json() and the like) a LightResponse in this process. */
export function installLightResponse(): void {
  if (globalThis.Response !== (LightResponse as unknown)) {
    Object.defineProperty(globalThis, "Response", { value: LightResponse, writable: true, configurable: true });
  }
}
