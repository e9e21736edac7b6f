// Entry point of the evolutionary-computation service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("evolutionary-computation");
