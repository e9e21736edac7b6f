// Entry point of the formal-verification service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("formal-verification");
