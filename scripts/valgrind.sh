#!/usr/bin/env bash
# Runs tau's runtime test binaries under valgrind: no definite leaks, no
# invalid reads or writes. Usage: bash scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

tests=(abort join_set io time blocking stress stream)
cargo build -q -p tau-sdk --tests
status=0
for name in "${tests[@]}"; do
    binary=$(cargo test -q -p tau-sdk --test "$name" --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["kind"] == ["test"]:
        print(msg["executable"])' | tail -n 1)
    echo "== valgrind: $name ($binary)"
    # Fewer stress tasks: valgrind runs ~50x slower. One test thread keeps
    # the output readable; timing-sensitive interval tests are skipped
    # because valgrind's slowness makes every tick "missed".
    if ! TAU_STRESS_TASKS=4000 valgrind --quiet --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite \
        --error-exitcode=1 "$binary" --test-threads=1 --skip missed_ticks --skip interval_first_tick; then
        echo "!! valgrind reported errors in $name" >&2
        status=1
    fi
done
exit $status
