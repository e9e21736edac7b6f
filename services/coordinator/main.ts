// Entry point of the coordinator service: multi-agent task coordination over the blackboard.
import { runService } from "../kit/run-service";
import { coordinatorRoutes } from "./routes";

void runService("coordinator", coordinatorRoutes);
