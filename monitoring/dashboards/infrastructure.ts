// acgs-infrastructure: the host, PostgreSQL and Redis, from the node, postgres and redis exporters.
import type { Environment } from "../../environments";
import { EXPORTER_JOBS } from "../promql";
import { buildDashboard, row, stat, timeseries } from "./panels";

export const INFRASTRUCTURE_UID = "acgs-infrastructure";

const REAL_FILESYSTEMS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs"';

export function infrastructureDashboard(env: Environment) {
  return buildDashboard({
    uid: INFRASTRUCTURE_UID,
    title: `ACGS infrastructure (${env.name})`,
    description: "Host (node exporter), PostgreSQL (postgres exporter) and Redis (redis exporter).",
    panels: [
      stat("Exporters up", "short", [{ expr: `up{job=~"${EXPORTER_JOBS.join("|")}"}`, legend: "{{job}}" }], {
        width: 8,
        height: 4,
        upDown: true,
      }),
      stat("PostgreSQL", "short", [{ expr: "pg_up", legend: "PostgreSQL" }], { width: 8, height: 4, upDown: true }),
      stat("Redis", "short", [{ expr: "redis_up", legend: "Redis" }], { width: 8, height: 4, upDown: true }),
      row("Host"),
      timeseries("CPU busy", "percentunit", [
        { expr: '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', legend: "{{instance}}" },
      ], { min: 0, max: 1, threshold: 0.9 }),
      timeseries("Memory used", "percentunit", [
        { expr: "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", legend: "{{instance}}" },
      ], { min: 0, max: 1, threshold: 0.9 }),
      timeseries("Filesystem used", "percentunit", [
        {
          expr: `1 - node_filesystem_avail_bytes{${REAL_FILESYSTEMS}} / node_filesystem_size_bytes{${REAL_FILESYSTEMS}}`,
          legend: "{{mountpoint}}",
        },
      ], { min: 0, max: 1, threshold: 0.85 }),
      timeseries("Network", "Bps", [
        { expr: 'sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[$__rate_interval]))', legend: "received" },
        { expr: 'sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[$__rate_interval]))', legend: "sent" },
      ], { min: 0 }),
      timeseries("Load (1m)", "short", [{ expr: "node_load1", legend: "{{instance}}" }], { min: 0 }),
      timeseries("Disk I/O", "Bps", [
        { expr: "sum by (instance) (rate(node_disk_read_bytes_total[$__rate_interval]))", legend: "read" },
        { expr: "sum by (instance) (rate(node_disk_written_bytes_total[$__rate_interval]))", legend: "written" },
      ], { min: 0 }),
      row("PostgreSQL"),
      timeseries("Connections", "short", [
        { expr: "sum(pg_stat_database_numbackends)", legend: "in use" },
        { expr: "max(pg_settings_max_connections)", legend: "max" },
      ], { min: 0 }),
      timeseries("Transactions", "ops", [
        { expr: "sum(rate(pg_stat_database_xact_commit[$__rate_interval]))", legend: "commits" },
        { expr: "sum(rate(pg_stat_database_xact_rollback[$__rate_interval]))", legend: "rollbacks" },
      ], { min: 0 }),
      timeseries("Buffer cache hit ratio", "percentunit", [
        {
          expr: "sum(rate(pg_stat_database_blks_hit[$__rate_interval])) / (sum(rate(pg_stat_database_blks_hit[$__rate_interval])) + sum(rate(pg_stat_database_blks_read[$__rate_interval])))",
          legend: "hit ratio",
        },
      ], { max: 1, threshold: 0.9, lowIsBad: true }),
      timeseries("Database size", "bytes", [{ expr: "pg_database_size_bytes", legend: "{{datname}}" }], { min: 0 }),
      row("Redis"),
      timeseries("Memory used", "bytes", [{ expr: "redis_memory_used_bytes", legend: "{{instance}}" }], { min: 0 }),
      timeseries("Clients", "short", [{ expr: "redis_connected_clients", legend: "{{instance}}" }], { min: 0 }),
      timeseries("Commands", "ops", [
        { expr: "sum(rate(redis_commands_processed_total[$__rate_interval]))", legend: "commands" },
      ], { min: 0 }),
      timeseries("Keyspace hit ratio", "percentunit", [
        {
          expr: "sum(rate(redis_keyspace_hits_total[$__rate_interval])) / (sum(rate(redis_keyspace_hits_total[$__rate_interval])) + sum(rate(redis_keyspace_misses_total[$__rate_interval])))",
          legend: "hit ratio",
        },
      ], { max: 1 }),
      timeseries("Keys", "short", [{ expr: "sum by (db) (redis_db_keys)", legend: "{{db}}" }], { min: 0, width: 24 }),
    ],
  });
}
