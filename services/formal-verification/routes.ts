// formal-verification's routes: stateless analysis of a policy set.
import { z } from "zod";
import { jsonBody } from "../kit/json-body";
import { requireLevel } from "../kit/require-level";
import { ROLE_LEVELS } from "../kit/roles";
import type { ServiceApp } from "../kit/service-app";
import type { ServiceContext } from "../kit/service-context";
import { policyRulesSchema } from "../policy-model/policy-rule";
import { verifyRules } from "./verify-rules";

export const verifyRequestSchema = z.strictObject({
  rules: policyRulesSchema,
});

export function formalVerificationRoutes(app: ServiceApp, _context: ServiceContext): void {
  app.post("/api/v1/verify", requireLevel(ROLE_LEVELS.worker), jsonBody(verifyRequestSchema), (c) => c.json(verifyRules(c.req.valid("json").rules)));
}
