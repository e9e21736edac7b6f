// Entry point of the policy-governance service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("policy-governance");
