// Entry point of the auth service: accounts, sessions, and the keys other services verify tokens with.
import { runService } from "../kit/run-service";
import { authRoutes } from "./auth-routes";

void runService("auth", (app, context) => authRoutes(app, context));
