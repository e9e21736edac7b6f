import { dev } from "./dev";
import { production } from "./production";
import { staging } from "./staging";
import type { Environment, EnvironmentName } from "./schema";

export { ConfigurationError, defineEnvironment, ENVIRONMENT_NAMES } from "./schema";
export type { Environment, EnvironmentName, EnvironmentInput, Receiver, ServiceSettings } from "./schema";

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, Environment>> = { dev, staging, production };

export function environment(name: string): Environment {
  const env = (ENVIRONMENTS as Record<string, Environment | undefined>)[name];
  if (!env) throw new Error(`unknown environment "${name}"; known: ${Object.keys(ENVIRONMENTS).join(", ")}`);
  return env;
}
