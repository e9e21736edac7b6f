#!/usr/bin/env bash
# Installs the real servers the tests start: Redis, Prometheus (promtool), Alertmanager (amtool), the
# node, PostgreSQL and Redis exporters (scraped for the metric names dashboards may use), openssl
# (the service client's TLS test makes its certificates with it),
# PostgreSQL 15. Debian or Ubuntu, as root or with sudo.
set -euo pipefail
packages=(postgresql-15 redis-server openssl prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: ${packages[*]} already installed"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-test-deps: installed ${missing[*]}"
