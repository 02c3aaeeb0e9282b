#!/usr/bin/env bash
# Failover benchmark for pulse (and keepalived VRRP as the peer, when
# installed), in host network namespaces.  Root only.
#   tests/bench/failover.sh [TRIALS] [LOSS_SECONDS]
# TRIALS defaults to 20, LOSS_SECONDS (5% heartbeat loss run) to 600.
# BENCH_ONLY=pulse|keepalived runs one kind of series.
# Needs: iproute2, python3, nftables (nft) for the loss run, keepalived
# for the peer rows (skipped with a note when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
    echo "bench: failover needs root (network namespaces); skipped"
    exit 0
fi
cargo build --release -p pulse -p send_arp >&2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
exec "$PY" tests/bench/failover.py --bin target/release "${1:-20}" "${2:-600}"
