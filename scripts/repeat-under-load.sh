#!/usr/bin/env bash
# Runs the tests most exposed to timing (unloading while another thread
# drives, the shim's sockets, a task looping on its timer) N times in a row
# (default 50) while both cores are kept busy by two CPU burners, as on a
# loaded CI machine. Each run has a time limit; a run that fails or
# overruns stops the loop, and its log is kept (target/repeat-under-load/).
#
#   bash scripts/repeat-under-load.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
logs=target/repeat-under-load
mkdir -p "$logs"

# The path of a test binary of `package` named `name`, built first.
test_binary() {
    cargo test -q "$@" --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["kind"] == ["test"]:
        print(msg["executable"])' | tail -n 1
}

cargo run -q -p tau-cli -- patch-config >/dev/null # materialises vendor/tokio for the shim
unload=$(test_binary -p tau-host --test unload)
revoke=$(test_binary -p tau-rt --test revoke_loop)
shim=()
for name in net_tcp net_unix net_udp; do
    shim+=("$(CARGO_TARGET_DIR=target/shim test_binary --manifest-path shims/tokio/Cargo.toml --test "$name")")
done
# The unload tests build their plugins once, before the load starts.
"$unload" -q >/dev/null

burners=()
for _ in 1 2; do
    (while :; do :; done) &
    burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT

for run in $(seq 1 "$runs"); do
    for binary in "$unload" "$revoke" "${shim[@]}"; do
        log="$logs/$(basename "$binary")-$run.log"
        if ! timeout 300 "$binary" >"$log" 2>&1; then
            echo "run $run: $(basename "$binary") failed or overran its 300 s; log: $log" >&2
            exit 1
        fi
    done
    echo "run $run of $runs: passed"
done
echo "$runs passed, 0 failed"
