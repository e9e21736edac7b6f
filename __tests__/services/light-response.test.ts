// The kit's LightResponse (services/kit/light-response.ts) behaves as a WHATWG Response to whoever
// reads it, while keeping a string, byte or stream body for the listener to write as it is.
import { LightResponse } from "../../services/kit/light-response";

const NativeResponse = globalThis.Response;

describe("LightResponse", () => {
  it("keeps a string body and its init for the listener, and reads like a Response", async () => {
    const response = new LightResponse('{"a":1}', { status: 201, headers: { "Content-Type": "application/json" } });
    expect(LightResponse.plain(response)).toEqual({ status: 201, body: '{"a":1}', headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await (response as unknown as Response).json()).toEqual({ a: 1 });
    // Read: the listener now writes it the standard way.
    expect(LightResponse.plain(response)).toBeUndefined();
  });

  it("gives a string body the standard's default Content-Type, and none to bytes", async () => {
    expect(new LightResponse("x").headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    const bytes = new LightResponse(new Uint8Array([7, 8]));
    expect(bytes.headers.get("content-type")).toBeNull();
    expect([...new Uint8Array(await (bytes as unknown as Response).arrayBuffer())]).toEqual([7, 8]);
  });

  it("keeps header changes made before the body is read", async () => {
    const response = new LightResponse("body", { headers: { "X-One": "1" } });
    response.headers.set("X-Two", "2");
    const copy = (response as unknown as Response).clone();
    expect(copy.headers.get("x-one")).toBe("1");
    expect(copy.headers.get("x-two")).toBe("2");
    expect(await copy.text()).toBe("body");
    expect(await (response as unknown as Response).text()).toBe("body");
  });

  it("reads a stream body", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("ab"));
        controller.enqueue(new TextEncoder().encode("cd"));
        controller.close();
      },
    });
    const response = new LightResponse(stream);
    expect(LightResponse.plain(response)?.body).toBe(stream);
    expect(await (response as unknown as Response).text()).toBe("abcd");
  });

  // (Node core's errors are not of jest's realm: compared by name.)
  const thrown = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      return (error as Error).name;
    }
    return "nothing";
  };

  it("refuses what the standard refuses, with the standard's errors", () => {
    expect(thrown(() => new LightResponse("x", { status: 99 }))).toBe("RangeError");
    expect(thrown(() => new LightResponse("x", { status: 600 }))).toBe("RangeError");
    expect(thrown(() => new LightResponse("x", { status: 204 }))).toBe("TypeError");
    expect(new LightResponse(null, { status: 204 }).status).toBe(204);
  });

  it("leaves anything unusual to the standard's Response (a status text, a form body)", async () => {
    const withText = new LightResponse("x", { status: 418, statusText: "Teapot" });
    expect(LightResponse.plain(withText)).toBeUndefined();
    expect(withText.statusText).toBe("Teapot");
    const form = new LightResponse(new URLSearchParams({ q: "1 2" }));
    expect(LightResponse.plain(form)).toBeUndefined();
    expect(await (form as unknown as Response).text()).toBe("q=1+2");
  });

  it("answers HEAD as Hono makes it (a null body from the GET's answer): same status and headers, the GET body's length", () => {
    const get = new LightResponse("héllo", { status: 202, headers: { "Content-Type": "text/plain" } });
    const head = new LightResponse(null, get as unknown as Response);
    expect(LightResponse.plain(head)).toMatchObject({ status: 202, body: null, lengthOfSource: 6 });
    expect(head.headers.get("content-type")).toBe("text/plain");
    // From a standard Response: the standard's way.
    const fromNative = new LightResponse(null, new NativeResponse("x", { status: 201, headers: { "X-A": "1" } }));
    expect(LightResponse.plain(fromNative)).toBeUndefined();
    expect(fromNative.status).toBe(201);
    expect(fromNative.headers.get("x-a")).toBe("1");
  });

  it("counts standard Responses as Responses, and is one", async () => {
    expect(new NativeResponse("x") instanceof LightResponse).toBe(true);
    expect(new LightResponse("x") instanceof NativeResponse).toBe(true);
    expect({ status: 200 } instanceof LightResponse).toBe(false);
  });
});
