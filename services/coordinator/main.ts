// Entry point of the coordinator service; its domain routes join in a later issue.
import { runService } from "../kit/run-service";

void runService("coordinator");
