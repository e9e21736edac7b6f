// jsonBody's `remember` option: a body text validated before skips JSON.parse and the schema and
// gets the same deep-frozen value; refused bodies are never kept; the memo is bounded.
import { Hono } from "hono";
import { z } from "zod";
import { jsonBody } from "../../services/kit/json-body";
import { createRememberedBodies, MAX_REMEMBERED_TEXT_LENGTH } from "../../services/kit/remembered-bodies";

/** A route whose schema counts its runs and whose handler hands back the validated value. */
function route(remember?: number) {
  let parses = 0;
  const schema = z
    .strictObject({ name: z.string().min(1), tags: z.array(z.object({ key: z.string() })).default([]) })
    .transform((value) => {
      parses++;
      return value;
    });
  const seen: unknown[] = [];
  const app = new Hono();
  app.post("/x", jsonBody(schema, remember === undefined ? {} : { remember }), (c) => {
    seen.push(c.req.valid("json"));
    return c.json({ ok: true });
  });
  const post = (body: string, contentType = "application/json") => app.request("/x", { method: "POST", headers: { "Content-Type": contentType }, body });
  return { post, seen, parses: () => parses };
}

describe("jsonBody with remember", () => {
  it("validates a text once and hands the same frozen value to each request with that text", async () => {
    const { post, seen, parses } = route(10);
    const text = '{"name":"a","tags":[{"key":"k"}]}';
    expect((await post(text)).status).toBe(200);
    expect((await post(text)).status).toBe(200);
    expect(parses()).toBe(1);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[0]).toEqual({ name: "a", tags: [{ key: "k" }] });
    const value = seen[0] as { tags: { key: string }[] };
    expect(Object.isFrozen(value) && Object.isFrozen(value.tags) && Object.isFrozen(value.tags[0])).toBe(true);
    // Another text, even one equal as JSON, is parsed on its own.
    await post('{ "name": "a", "tags": [{"key": "k"}] }');
    expect(parses()).toBe(2);
    expect(seen[2]).not.toBe(seen[0]);
  });

  it("answers every refused body its own 400 naming the field, and keeps none of them", async () => {
    const { post, parses } = route(10);
    for (let i = 0; i < 2; i++) {
      const res = await post('{"name":"","tags":[]}');
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid request body", fields: [{ path: "name", message: "Too small: expected string to have >=1 characters" }] });
      const malformed = await post('{"name":');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: string }).error).toBe("malformed JSON body");
      const empty = await post("  ");
      expect(await empty.json()).toEqual({ error: "malformed JSON body", detail: "the body is empty" });
    }
    expect(parses()).toBe(0); // the schema's transform runs only on valid input
    const valid = await post('{"name":"b"}');
    expect(valid.status).toBe(200);
    expect(parses()).toBe(1);
  });

  it("still refuses another content type, also for a text it keeps", async () => {
    const { post, seen } = route(10);
    await post('{"name":"a"}');
    const res = await post('{"name":"a"}', "text/plain");
    expect(res.status).toBe(415);
    expect(seen).toHaveLength(1);
  });

  it("without the option parses every request and leaves the value unfrozen", async () => {
    const { post, seen, parses } = route();
    await post('{"name":"a"}');
    await post('{"name":"a"}');
    expect(parses()).toBe(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect(Object.isFrozen(seen[0])).toBe(false);
  });
});

describe("remembered bodies", () => {
  it("keeps at most its bound of texts, the oldest leaving first", () => {
    const bodies = createRememberedBodies(2);
    bodies.set("a", { v: 1 });
    bodies.set("b", { v: 2 });
    bodies.set("a", { v: 3 }); // a kept text replaced: nothing evicted
    expect(bodies.get("b")).toEqual({ v: 2 });
    bodies.set("c", { v: 4 });
    expect(bodies.get("a")).toBeUndefined();
    expect(bodies.get("b")).toEqual({ v: 2 });
    expect(bodies.get("c")).toEqual({ v: 4 });
  });

  it("does not keep a text longer than its limit", () => {
    const bodies = createRememberedBodies(2);
    const long = "x".repeat(MAX_REMEMBERED_TEXT_LENGTH + 1);
    bodies.set(long, { v: 1 });
    expect(bodies.get(long)).toBeUndefined();
    const limit = "y".repeat(MAX_REMEMBERED_TEXT_LENGTH);
    bodies.set(limit, { v: 2 });
    expect(bodies.get(limit)).toEqual({ v: 2 });
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => createRememberedBodies(0)).toThrow(/positive integer/);
    expect(() => createRememberedBodies(1.5)).toThrow(/positive integer/);
  });
});
