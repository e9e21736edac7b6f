// A histogram whose label sets are bound once, plus the counter of the same observations, exposed
// through a prom-client registry in prom-client's own format. Observing is a bucket search and
// three additions: prom-client hashes and validates the labels on every call, even on a bound
// child, which cost the contract path a few microseconds per request.
import type { Metric, Registry } from "prom-client";

export type Labels = Readonly<Record<string, string>>;

export class HistogramSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export interface RequestHistogramOptions {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  /** A counter of the same observations by the same labels (e.g. requests_total). */
  readonly counter?: { readonly name: string; readonly help: string };
}

export interface RequestHistogram {
  /** The series of a label set, created at its first use; keep it and observe on it. */
  series(labels: Labels): HistogramSeries;
}

interface ExportedValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
  /** prom-client's buckets carry one (null without exemplars). */
  readonly exemplar?: null;
  readonly sharedLabels?: Labels;
}

export function createRequestHistogram({ registry, name, help, buckets, counter }: RequestHistogramOptions): RequestHistogram {
  const bounds = [...buckets].sort((a, b) => a - b);
  const all: HistogramSeries[] = [];

  // Bucket lines carry {le} and the series' labels as "shared" labels, exactly as prom-client's
  // histogram writes them, so the exposition does not change.
  const histogramValues = (): ExportedValue[] => {
    const values: ExportedValue[] = [];
    for (const s of all) {
      if (s.count === 0) continue;
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ labels: { le }, value: cumulative, metricName: `${name}_bucket`, exemplar: null, sharedLabels: s.labels });
      });
      values.push(
        { labels: { le: "+Inf" }, value: s.count, metricName: `${name}_bucket`, exemplar: null, sharedLabels: s.labels },
        { labels: {}, value: s.sum, metricName: `${name}_sum`, sharedLabels: s.labels },
        { labels: {}, value: s.count, metricName: `${name}_count`, sharedLabels: s.labels },
      );
    }
    return values;
  };
  const splay = ({ sharedLabels, ...v }: ExportedValue) => ({ ...v, labels: { ...v.labels, ...sharedLabels } });
  // As with prom-client, a reset series is absent from the exposition until observed again.
  const reset = () => {
    for (const s of all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  };

  registry.registerMetric(
    exported(name, help, "histogram", {
      getForPromString: async () => ({ name, help, type: "histogram", aggregator: "sum", values: histogramValues() }),
      get: async () => ({ name, help, type: "histogram", aggregator: "sum", values: histogramValues().map(splay) }),
      reset,
    }),
  );
  if (counter) {
    const counterValues = () => all.filter((s) => s.count > 0).map((s) => ({ value: s.count, labels: { ...s.labels } }));
    registry.registerMetric(
      exported(counter.name, counter.help, "counter", {
        get: async () => ({ name: counter.name, help: counter.help, type: "counter", aggregator: "sum", values: counterValues() }),
        reset,
      }),
    );
  }

  return {
    series(labels) {
      const s = new HistogramSeries({ ...labels }, bounds);
      all.push(s);
      return s;
    },
  };
}

// The registry reads a metric through get() (or getForPromString()) and reset(); that duck-typed
// protocol is all these objects implement, hence the cast.
function exported(name: string, help: string, type: "histogram" | "counter", methods: Record<string, unknown>): Metric<string> {
  return { name, help, type, aggregator: "sum", ...methods } as unknown as Metric<string>;
}
