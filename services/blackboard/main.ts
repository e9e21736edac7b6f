// Entry point of the blackboard service: agents' shared knowledge, entries by topic.
import { runService } from "../kit/run-service";
import { blackboardRoutes } from "./routes";

void runService("blackboard", blackboardRoutes);
