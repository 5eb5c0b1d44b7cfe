#!/usr/bin/env bash
# Runs tokio 1.54.1's own integration tests (the tests/ directory of the
# registry's tokio-1.54.1.crate, sha256-checked) against tau's tokio shim
# and writes a per-file report, docs/tokio-test-report.md.
#
#   scripts/tokio-suite.sh                 the default set, report in docs/
#   scripts/tokio-suite.sh 'sync_*' udp    only these files (names or globs;
#                                          report in target/tokio-suite/report.md)
#   scripts/tokio-suite.sh --list          what would run, what is left out and why
#   scripts/tokio-suite.sh --suite tokio-util    tokio-util 0.7.20's tests/ instead
#                                          (or tokio-stream 0.1.19's), the crate
#                                          from the registry on the shim; report
#                                          in docs/tokio-util-test-report.md
#   scripts/tokio-suite.sh --report-only   rewrite the report from the last run
#
# Options: --test-timeout SECS (a test with no result that long is hung,
# default 60; the report says whether it sat idle or burned CPU),
# --file-timeout SECS (all of one file's runs, default 300),
# --compile-timeout SECS (default 1800), --report PATH, --include-skipped.
#
# Each file is compiled on its own (`cargo test --no-run --test NAME`) and
# its binary run with --test-threads=1, so a file that does not compile, or
# a test that hangs or crashes, does not stop the rest; one target dir
# (target/tokio-suite/target) is shared by every suite, so the dependencies
# compile once. Everything generated is under target/tokio-suite/ (the other
# suites' under target/tokio-suite/SUITE/); logs per file are in logs/ there. Run it on its own: it runs cargo itself, one
# command at a time, with cargo's default parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/tokio_suite.py "$@"
