// The login gate on its own, with logins the test finishes one by one: one at a time per
// username, a bounded number at once overall, bounded waiting, and a refusal that runs nothing.
import { createLoginGate, LoginsBusy } from "../../../services/auth/login-gate";

/** Logins that stay running until the test finishes them; `started` lists who ran, in order. */
function controlledLogins() {
  const started: string[] = [];
  const finishers = new Map<string, (outcome: "ok" | Error) => void>();
  const login = (name: string) => () =>
    new Promise<string>((resolve, reject) => {
      started.push(name);
      finishers.set(name, (outcome) => (outcome === "ok" ? resolve(`${name} done`) : reject(outcome)));
    });
  const finish = (name: string, outcome: "ok" | Error = "ok") => finishers.get(name)!(outcome);
  return { started, login, finish };
}

const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
const settle = <T>(promise: Promise<T>) => promise.then((value) => ({ value }), (error: Error) => ({ error }));

describe("login gate", () => {
  it("runs one login per username at a time, in order, whatever the case, and others beside it", async () => {
    const { started, login, finish } = controlledLogins();
    const gate = createLoginGate({ inFlight: 4 });
    const first = gate.run("alice", login("alice-1"));
    const second = gate.run("ALICE", login("alice-2"));
    const bob = gate.run("bob", login("bob-1"));
    await turns();
    expect(started).toEqual(["alice-1", "bob-1"]);
    finish("alice-1");
    await expect(first).resolves.toBe("alice-1 done");
    await turns();
    expect(started).toEqual(["alice-1", "bob-1", "alice-2"]);
    finish("alice-2", new Error("wrong password"));
    await expect(second).rejects.toThrow("wrong password");
    finish("bob-1");
    await expect(bob).resolves.toBe("bob-1 done");
    // The failed login passed the turn on: alice can log in again at once.
    const again = gate.run("alice", login("alice-3"));
    await turns();
    expect(started.at(-1)).toBe("alice-3");
    finish("alice-3");
    await again;
  });

  it("runs at most inFlight logins at once; the next starts as one ends", async () => {
    const { started, login, finish } = controlledLogins();
    const gate = createLoginGate({ inFlight: 2 });
    const all = ["a", "b", "c", "d"].map((name) => gate.run(name, login(name)));
    await turns();
    expect(started).toEqual(["a", "b"]);
    finish("b");
    await turns();
    expect(started).toEqual(["a", "b", "c"]);
    finish("a");
    finish("c");
    await turns();
    finish("d");
    await expect(Promise.all(all)).resolves.toEqual(["a done", "b done", "c done", "d done"]);
  });

  it("refuses, without running it, a login past the bound for its account or past the overall one", async () => {
    const { started, login, finish } = controlledLogins();
    const gate = createLoginGate({ inFlight: 1, waitingPerAccount: 2, waiting: 3 });
    const admitted = [1, 2, 3].map((i) => settle(gate.run("target", login(`target-${i}`))));
    const refused = await settle(gate.run("target", login("target-4")));
    expect(refused).toEqual({ error: expect.any(LoginsBusy) });
    expect((refused as { error: LoginsBusy }).error).toMatchObject({ scope: "account", retryAfterSeconds: 1 });
    // Other accounts still get in, up to the overall bound of waiting logins.
    const other = settle(gate.run("other", login("other-1")));
    const full = await settle(gate.run("third", login("third-1")));
    expect((full as { error: LoginsBusy }).error).toMatchObject({ scope: "service" });
    await turns();
    expect(started).toEqual(["target-1"]);
    // Each ending lets the next in: the free slot goes to the login that waited for a slot first.
    for (let i = 0; i < 4; i++) {
      await turns();
      expect(started).toHaveLength(i + 1);
      finish(started[i]);
    }
    expect(started).toEqual(["target-1", "other-1", "target-2", "target-3"]);
    expect((await Promise.all(admitted)).map((a) => ("value" in a ? a.value : a.error.message))).toEqual(["target-1 done", "target-2 done", "target-3 done"]);
    expect(await other).toEqual({ value: "other-1 done" });
    expect(started).not.toContain("target-4");
    expect(started).not.toContain("third-1");
    // Drained: the bounds count only what is admitted now.
    const later = gate.run("target", login("target-5"));
    await turns();
    finish("target-5");
    await expect(later).resolves.toBe("target-5 done");
  });
});
