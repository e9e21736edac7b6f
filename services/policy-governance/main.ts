// Entry point of the policy-governance service.
import { runService } from "../kit/run-service";
import { policyGovernanceRoutes } from "./routes";

void runService("policy-governance", policyGovernanceRoutes);
