// Entry point of the governance-synthesis service.
import { runService } from "../kit/run-service";
import { governanceSynthesisRoutes } from "./routes";

void runService("governance-synthesis", governanceSynthesisRoutes);
