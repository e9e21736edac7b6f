import type { HealthCheck } from "./workload";

/** A health check that GETs a local URL with busybox wget (the Prometheus-family and Grafana images have it, not curl). */
export function httpHealthCheck(port: number, path: string, startPeriodSeconds: number, intervalSeconds = 15): HealthCheck {
  return {
    command: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
    intervalSeconds,
    timeoutSeconds: 5,
    retries: 3,
    startPeriodSeconds,
  };
}
