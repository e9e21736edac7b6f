// Entry point of the constitutional-ai service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("constitutional-ai");
