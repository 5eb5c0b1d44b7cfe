#!/usr/bin/env bash
# Runs tau's runtime test binaries, and the end-to-end tests of unloading a
# plugin while its stream lives, while another thread drives and from its
# own code, under valgrind: no definite leaks, no invalid reads or writes.
# Usage: bash scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

# The path of a test binary of `package` named `name`, built first.
test_binary() {
    cargo test -q -p "$1" --test "$2" --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["kind"] == ["test"]:
        print(msg["executable"])' | tail -n 1
}

run() {
    local name=$1
    shift
    echo "== valgrind: $name"
    if ! valgrind --quiet --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite \
        --error-exitcode=1 "$@"; then
        echo "!! valgrind reported errors in $name" >&2
        status=1
    fi
}

status=0
cargo build -q -p tau-sdk --tests
# Fewer stress tasks: valgrind runs ~50x slower. One test thread keeps the
# output readable; timing-sensitive interval and stream-timeout tests are
# skipped because valgrind's slowness makes every tick "missed".
for name in abort join_set io io_fd_reuse time blocking stress stream lifecycle; do
    binary=$(test_binary tau-sdk "$name")
    TAU_STRESS_TASKS=4000 run "$name" "$binary" --test-threads=1 --skip missed_ticks --skip interval_first_tick \
        --skip stream_timeout_counts_each_gap
done

# A task looping on a gone scope's timer, and on always-due timers (issue 25, item 1).
run "revoke_loop" "$(test_binary tau-rt revoke_loop)" --test-threads=1

# The tests build their plugins with cargo, which runs outside valgrind.
binary=$(test_binary tau-host unload)
run "unload" "$binary" --test-threads=1 --exact \
    a_stream_kept_past_its_plugins_unload_is_woken_and_ends \
    unload_metrics_and_drop_work_while_another_thread_drives \
    a_plugin_looping_on_its_timer_is_unloaded_while_another_thread_drives \
    aborting_a_call_while_another_thread_unloads_its_plugin \
    a_plugin_unloaded_from_its_own_call_is_destroyed_after_the_call_returns \
    a_plugin_unloaded_from_its_own_task_is_destroyed_after_the_poll_returns \
    a_plugin_unloaded_from_its_own_blocking_job_is_destroyed_after_the_job_returns \
    a_plugin_unloaded_from_the_drop_of_its_aborted_call_is_destroyed_after_the_drop
exit $status
