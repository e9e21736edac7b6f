// Entry point of the integrity service: the append-only, hash-chained audit log.
import { runService } from "../kit/run-service";
import { integrityRoutes } from "./routes";

void runService("integrity", integrityRoutes);
