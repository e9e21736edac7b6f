// Entry point of the formal-verification service.
import { runService } from "../kit/run-service";
import { formalVerificationRoutes } from "./routes";

void runService("formal-verification", formalVerificationRoutes);
