#!/usr/bin/env bash
# The main job: build the `tau` command and the example plugin, load the
# plugin and call it through `tau` (sync, async and text calls), checking
# each result.
set -euo pipefail
cd "$(dirname "$0")/.."
export TAU_CACHE_DIR="${TAU_CACHE_DIR:-$PWD/target/tau-cache}"

cargo build -p tau-cli --bin tau
tau=target/debug/tau
plugin=plugins/example-plugin

expect() { # expect <wanted> <got> <what>
    if [ "$1" != "$2" ]; then
        echo "demo: $3: expected '$1', got '$2'" >&2
        exit 1
    fi
    echo "  $3 -> $2"
}

echo "== tau build $plugin"
library=$("$tau" build "$plugin")
echo "  $library"

echo "== tau build again: nothing changed, so cargo is not run"
again=$("$tau" build "$plugin" 2>/tmp/tau-demo-build)
expect "$library" "$again" "the same library"
expect "up-to-date (skipped): $plugin" "$(cat /tmp/tau-demo-build)" "what tau says"

echo "== tau call"
expect "hello, world" "$("$tau" call "$library" greet world)" "greet world"
expect "42" "$("$tau" call "$library" slow_double 21)" "slow_double 21 (async, sleeps on the shared runtime)"

echo "== tau run (commands on stdin)"
output=$(printf 'add 2 3\ngreet "two words"\nslow_double 5\ngreetings\n' | "$tau" run "$library")
expect $'5\nhello, two words\n10\n1' "$output" "a session of four commands"

echo "== a plugin that leaves a task running: tau waits up to --grace for it, then cancels it"
output=$("$tau" call --grace 100ms "$library" tick_forever 2>/tmp/tau-demo-grace)
expect "ticking" "$output" "tick_forever"
expect "tau: cancelled 1 task of plugin \`example-plugin\` still running 100ms after the last call (raise --grace to wait longer)" \
    "$(cat /tmp/tau-demo-grace)" "what tau says"

echo "== a bad argument: an error, and the exit code says so"
if "$tau" call "$library" add one 2 2>/tmp/tau-demo-error; then
    echo "demo: a bad argument was accepted" >&2
    exit 1
fi
echo "  $(cat /tmp/tau-demo-error)"
echo "demo: ok"
