#!/usr/bin/env bash
# Idle cost of a plugin waiting in crossterm's EventStream (issue 14): starts
# `tau call plugins/term-plugin record <log> 1` in a tmux pane, waits until
# the plugin waits for a key, then counts, over SECONDS_IDLE (default 10),
# the CPU ticks and the context switches of every thread of the host.
# Usage: bash scripts/idle-cpu.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cargo build -q -p tau-cli
export TAU_CACHE_DIR=${TAU_CACHE_DIR:-$PWD/target/tau-cache}
lib=$(target/debug/tau build -q plugins/term-plugin 2>/dev/null | tail -1)
work=$(mktemp -d)
socket="tau-idle-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
tmux -L "$socket" new-session -d -s idle "exec target/debug/tau call $lib record $work/log 1"
for _ in $(seq 600); do grep -q ready "$work/log" 2>/dev/null && break; sleep 0.05; done
pid=$(tmux -L "$socket" list-panes -t idle -F '#{pane_pid}')
sample() {
    local ticks=0 switches=0
    for task in /proc/"$pid"/task/*; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "$task/stat")))
        switches=$((switches + $(awk '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print v + n}' "$task/status")))
    done
    echo "$ticks $switches"
}
read -r ticks0 switches0 < <(sample)
sleep "$seconds"
read -r ticks1 switches1 < <(sample)
threads=$(ls /proc/"$pid"/task | wc -l)
echo "idle in EventStream for ${seconds} s: $((ticks1 - ticks0)) CPU ticks (of $(getconf CLK_TCK)/s), $((switches1 - switches0)) context switches, ${threads} threads"
