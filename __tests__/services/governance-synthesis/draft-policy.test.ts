// draftPolicy on its own (no servers): which actions a principle names, in which form, and the
// drafts' shapes; the route's end-to-end behaviour is in governance-synthesis.test.ts.
import { actionForms, draftPolicy, SynthesisError } from "../../../services/governance-synthesis/draft-policy";

describe("draftPolicy", () => {
  it.each([
    ["Agents must never delete production databases", ["delete"]],
    ["Agents must not be deleting backups", ["delete"]],
    ["Agents must not drop or delete tables", ["delete", "drop"]],
    ["Agents must never be releasing or publishing builds", ["publish", "release"]],
    ["Agents may read and write reports", ["read", "write"]],
    // The known actions' order, not the principle's; each action once.
    ["Agents must not upload, truncate or upload again", ["truncate", "upload"]],
    ["Agents may RESTART services", ["restart"]],
    // A doubled final consonant.
    ["Agents must not be dropping tables", ["drop"]],
    ["Tables dropped by agents need approval", ["drop"]],
  ])("reads the actions of %j", (principle, actions) => {
    expect(draftPolicy(principle, {}).rules[0].action).toEqual(actions);
  });

  it("maps a word form two verbs share to both, so that no verb shadows another", () => {
    // "ships" is a form of "ship" and the verb "ships"; "used" and "using" of "use" and "us".
    const forms = actionForms(["ship", "ships", "use", "us"]);
    expect(forms.get("ships")).toEqual(["ship", "ships"]);
    expect(forms.get("used")).toEqual(["use", "us"]);
    expect(forms.get("shipping")).toEqual(["ship"]);
    expect(forms.get("using")).toEqual(["use", "us"]);
    // Forms of one verb that coincide are listed once ("use" and its "-e" dropped before "ing").
    expect(forms.get("use")).toEqual(["use"]);
  });

  it("does not take a word that only contains a verb for it", () => {
    // "readers" and "dropdown" contain "read" and "drop" but are no forms of them.
    expect(() => draftPolicy("Readers must not use the dropdown", {})).toThrow(SynthesisError);
    expect(() => draftPolicy("Readers must not use the dropdown", {})).toThrow(/names no known action/);
  });

  it("prefers the context's actions, and names the rules after the principle or the given name", () => {
    const draft = draftPolicy("Agents must never delete production databases", { actions: ["drop"], name: "no-drops" });
    expect(draft).toMatchObject({ name: "no-drops", template: "prohibition" });
    expect(draft.rules).toEqual([expect.objectContaining({ id: "no-drops.deny", effect: "deny", action: ["drop"], subject: ["*"], resource: ["*"] })]);
  });

  it("chooses the template by the first kind of wording that fits", () => {
    expect(draftPolicy("Merges need review", {}).template).toBe("approval");
    expect(draftPolicy("Only admins may deploy", { subjects: ["role:admin"] }).template).toBe("restriction");
    expect(draftPolicy("Agents may read", {}).template).toBe("permission");
    expect(() => draftPolicy("Blue is a colour", { actions: ["read"] })).toThrow(/no template fits/);
  });
});
