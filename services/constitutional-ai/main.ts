// Entry point of the constitutional-ai service.
import { runService } from "../kit/run-service";
import { constitutionalAiRoutes } from "./routes";

void runService("constitutional-ai", constitutionalAiRoutes);
