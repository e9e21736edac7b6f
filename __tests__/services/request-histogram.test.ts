// The kit's request histogram must expose exactly what prom-client's Histogram and Counter would
// for the same observations: dashboards and alerts read these lines.
import { Counter, Histogram, Registry } from "prom-client";
import { REQUEST_DURATION_BUCKETS } from "../../services/kit/metrics";
import { createRequestHistogram } from "../../services/kit/request-histogram";

const LABELS = ["service", "route", "method", "status"] as const;
// Values on, between and beyond the bucket bounds, in two series.
const OBSERVATIONS: [Record<(typeof LABELS)[number], string>, number][] = [
  [{ service: "s", route: "/api/v1/items/:id", method: "GET", status: "200" }, 0.0005],
  [{ service: "s", route: "/api/v1/items/:id", method: "GET", status: "200" }, 0.0031],
  [{ service: "s", route: "/api/v1/items/:id", method: "GET", status: "200" }, 7],
  [{ service: "s", route: 'odd "route"\\', method: "POST", status: "403" }, 0],
  [{ service: "s", route: 'odd "route"\\', method: "POST", status: "403" }, 0.3],
];

function withPromClient(): Registry {
  const registry = new Registry();
  const histogram = new Histogram({ name: "d_seconds", help: "durations", labelNames: LABELS, buckets: REQUEST_DURATION_BUCKETS, registers: [registry] });
  const counter = new Counter({ name: "d_total", help: "count", labelNames: LABELS, registers: [registry] });
  for (const [labels, value] of OBSERVATIONS) {
    histogram.observe(labels, value);
    counter.inc(labels);
  }
  return registry;
}

function withKit(): Registry {
  const registry = new Registry();
  const histogram = createRequestHistogram({ registry, name: "d_seconds", help: "durations", buckets: REQUEST_DURATION_BUCKETS, counter: { name: "d_total", help: "count" } });
  const series = new Map<string, ReturnType<typeof histogram.series>>();
  for (const [labels, value] of OBSERVATIONS) {
    const key = JSON.stringify(labels);
    if (!series.has(key)) series.set(key, histogram.series(labels));
    series.get(key)!.observe(value);
  }
  return registry;
}

describe("request histogram", () => {
  it("writes the same exposition as prom-client's Histogram and Counter", async () => {
    const expected = await withPromClient().metrics();
    expect(expected).toContain('d_seconds_bucket{le="0.005",service="s",route="/api/v1/items/:id",method="GET",status="200"} 2');
    expect(await withKit().metrics()).toBe(expected);
  });

  it("gives the same JSON as prom-client's", async () => {
    expect(await withKit().getMetricsAsJSON()).toEqual(await withPromClient().getMetricsAsJSON());
  });

  it("leaves a reset series out until it is observed again, as prom-client does", async () => {
    const kit = withKit();
    const reference = withPromClient();
    kit.resetMetrics();
    reference.resetMetrics();
    expect(await kit.metrics()).toBe(await reference.metrics());
  });
});
