// Entry point of the blackboard service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("blackboard");
