import { SERVICES, type ServiceName } from "../services/catalog";
import type { EnvironmentInput } from "./schema";

type ServicesInput = EnvironmentInput["services"];
type Settings = ServicesInput[ServiceName];

/** Every catalog service on its dev or production port, with the same replicas and limits. */
export function servicesFromCatalog(
  ports: "dev" | "production",
  settings: Omit<Settings, "port">,
): ServicesInput {
  return Object.fromEntries(
    SERVICES.map((s) => [s.name, { ...settings, port: ports === "dev" ? s.devPort : s.productionPort }]),
  ) as ServicesInput;
}
