// Entry point of the governance-synthesis service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("governance-synthesis");
