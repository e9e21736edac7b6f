// The audit log's group commit, as /metrics shows it: how many appends wait, how many batches
// carried how many appends (their ratio is the mean batch size), and how often another replica
// had moved the chain head. Read from the store at scrape time: nothing is done per request.
import { Gauge, type Registry } from "prom-client";
import { scrapedCounter } from "../kit/metrics";
import type { BatchingStats } from "./store";

export function registerBatchMetrics(registry: Registry, service: string, stats: BatchingStats): void {
  // Labelled by service, as the kit's own metrics are.
  const counter = (name: string, help: string, read: () => number) => scrapedCounter(registry, service, name, help, read);
  new Gauge({
    name: "acgs_audit_appends_waiting",
    help: "Audit appends waiting for the next batch.",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.labels(service).set(stats.waiting);
    },
  });
  counter("acgs_audit_batches_total", "Audit batches written or failed, one transaction each.", () => stats.batches);
  counter("acgs_audit_batched_appends_total", "Audit appends in those batches.", () => stats.items);
  counter(
    "acgs_audit_head_moved_total",
    "Optimistic batch writes that found the chain head moved by another replica (the batch is linked again).",
    () => stats.headMoved,
  );
}
