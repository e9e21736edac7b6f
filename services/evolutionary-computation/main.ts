// Entry point of the evolutionary-computation service: seeded searches over policy parameters.
import { runService } from "../kit/run-service";
import { evolutionRoutes } from "./routes";

void runService("evolutionary-computation", evolutionRoutes);
