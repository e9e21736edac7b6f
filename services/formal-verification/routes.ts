// formal-verification's routes: stateless analysis of a policy set.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { policyRulesSchema } from "../policy-model/policy-rule";
import { createVerdictCache } from "./verdict-cache";

// A fresh object per answer: the HTTP layer may add to the headers object it is given
// (Content-Length, the contract's headers), so a shared one would carry them into the next answer.
const jsonHeaders = () => ({ "Content-Type": "application/json" });

export const verifyRequestSchema = z.strictObject({
  rules: policyRulesSchema,
});

// Body texts whose validated rule list is kept: a repeated body skips parsing and finds its report by identity.
const REMEMBERED_BODIES = 1000;

export function formalVerificationRoutes(app: ServiceApp, _context: ServiceContext): void {
  const verdicts = createVerdictCache();
  const body = jsonBody(verifyRequestSchema, { remember: REMEMBERED_BODIES });
  app.post("/api/v1/verify", requireLevel(ROLE_LEVELS.worker), body, (c) =>
    c.body(verdicts.reportJson(c.req.valid("json").rules), 200, jsonHeaders()),
  );
}
