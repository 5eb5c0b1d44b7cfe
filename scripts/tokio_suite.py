#!/usr/bin/env python3
"""Run tokio 1.54.1's own integration tests (its `tests/` directory, from the
registry's .crate) against tau's tokio shim, one test file at a time, and
write a per-file report. `--suite tokio-util` / `--suite tokio-stream` run
those crates' integration tests the same way (the registry's crate is the
one under test, tokio under it is the shim).

Called by scripts/tokio-suite.sh; see its header (or --help) for usage.

Everything it generates lives under target/tokio-suite/ (git-ignored; the
other suites in target/tokio-suite/SUITE/, sharing target/):
  crate/       the .crate's tests/ and Cargo.toml, unpacked
  pkg/         the generated cargo package (own [workspace], one [[test]]
               per file, tokio's dev-dependencies, the shim patched in)
  target/      the cargo target dir every file shares
  logs/        per file: NAME.compile.txt (rendered diagnostics) and
               NAME.run.txt (the test binary's output, every attempt)
  results.json the parsed outcome of the last run, per file
"""

import argparse
import datetime
import fnmatch
import glob
import hashlib
import io
import json
import os
import platform
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib

TOKIO_VERSION = "1.54.1"

# The crates whose tests/ can be run: the version and the sha256 of its
# .crate (the checksum crates.io's index records, as in Cargo.lock), where
# it works and reports, and the files run by default.
SUITES = {
    "tokio": {
        "version": TOKIO_VERSION,
        "sha256": "b52fd3255258d26fac7264ab5a76b53c13367136dc011d3d6ad4f8ed070396a3",
        "work": "tokio-suite", "report": "tokio-test-report.md",
        "globs": [
            "task_*.rs", "sync_*.rs", "time_*.rs", "macros_*.rs", "io_*.rs",
            "tcp_*.rs", "uds_*.rs", "udp.rs", "net_lookup_host.rs", "rt_common.rs",
            "rt_handle.rs", "fs_*.rs", "process_*.rs", "signal_*.rs",
        ],
    },
    "tokio-util": {
        "version": "0.7.20",
        "sha256": "e464cf451ba96ebfc6f9b6542f17ee8b8956e33f1e40d9690624e59d7a7f8a4b",
        "work": "tokio-suite/tokio-util", "report": "tokio-util-test-report.md", "globs": ["*.rs"],
    },
    "tokio-stream": {
        "version": "0.1.19",
        "sha256": "a3d06f0b082ba57c26b79407372e57cf2a1e28124f78e9479fe80322cf53420b",
        "work": "tokio-suite/tokio-stream", "report": "tokio-stream-test-report.md", "globs": ["*.rs"],
    },
}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every suite compiles into one target dir, so the shim and the shared
# dependencies compile once.
TARGET = os.path.join(REPO, "target", "tokio-suite", "target")


def use_suite(name):
    """Points the globals below at suite `name`'s crate, files and report."""
    global SUITE, CRATE_VERSION, CRATE_SHA256, WORK, CRATE_DIR, PKG, LOGS, DEFAULT_REPORT, DEFAULT_GLOBS
    suite = SUITES[name]
    SUITE, CRATE_VERSION, CRATE_SHA256 = name, suite["version"], suite["sha256"]
    WORK = os.path.join(REPO, "target", suite["work"])
    CRATE_DIR = os.path.join(WORK, "crate")
    PKG = os.path.join(WORK, "pkg")
    LOGS = os.path.join(WORK, "logs")
    DEFAULT_REPORT = os.path.join(REPO, "docs", suite["report"])
    DEFAULT_GLOBS = suite["globs"]


use_suite("tokio")

# The package's own features, named like tokio's: the test files gate on
# `cfg(feature = "...")` of the crate that compiles them.
SUB_FEATURES = [
    "rt", "rt-multi-thread", "net", "time", "sync", "macros", "io-util",
    "io-std", "fs", "process", "signal", "parking_lot",
]
FEATURES = ["full", "test-util"] + SUB_FEATURES

# Files that only make sense for real tokio's internals, whatever their cfg
# says. (Files whose crate-level `#![cfg]` is false on Linux without
# tokio_unstable are found by evaluating it, below.)
SKIP = {
    "rt_unstable_metrics.rs": "tokio_unstable runtime metrics: counters of tokio's own scheduler and driver",
    "rt_metrics.rs": "runtime metrics of tokio's own scheduler (worker counts, queue depths)",
    "rt_unstable_eager_driver_handoff.rs": "tokio_unstable scheduler option of tokio's multi-thread runtime",
    "dump.rs": "task dumps (taskdump): tokio's task tracing internals",
    "task_trace_self.rs": "task dumps (taskdump): tokio's task tracing internals",
    "task_trace_wake.rs": "task dumps (taskdump): tokio's task tracing internals",
    "tracing_sync.rs": "tokio's internal tracing instrumentation (tokio_unstable + tracing)",
    "tracing_task.rs": "tokio's internal tracing instrumentation (tokio_unstable + tracing)",
    "tracing_time.rs": "tokio's internal tracing instrumentation (tokio_unstable + tracing)",
}
SKIP_PATTERNS = [
    ("*loom*", "loom model-checking of tokio's internals"),
    ("fs_uring*", "io-uring backend of tokio's fs (tokio_unstable)"),
]

# What this machine is, for evaluating `cfg(...)` expressions.
CFG_NAMES = {"unix": True, "windows": False, "miri": False, "loom": False,
             "tokio_unstable": False, "test": True, "debug_assertions": True,
             "fuzzing": False, "tokio_no_parking_lot": False,
             "tokio_no_tuning_tests": False, "tokio_allow_from_blocking_fd": False,
             "tokio_internal_mt_counters": False,
             "mio_unsupported_force_poll_poll": False}
CFG_VALUES = {
    "target_os": {"linux"}, "target_family": {"unix"}, "target_env": {"gnu"},
    "target_vendor": {"unknown"}, "panic": {"unwind"},
    "target_has_atomic": {"8", "16", "32", "64", "ptr"},
    "target_pointer_width": {"64"},
    "target_arch": {{"aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())},
}


# --------------------------------------------------------------- cfg(...)

def _cfg_tokens(s):
    return re.findall(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_]*|[(),=]', s)


def cfg_eval(expr, features):
    """Evaluates a cfg predicate (the text inside `cfg(...)`)."""
    toks = _cfg_tokens(expr)
    pos = 0

    def pred():
        nonlocal pos
        name = toks[pos]
        pos += 1
        if name in ("all", "any", "not") and pos < len(toks) and toks[pos] == "(":
            pos += 1
            vals = []
            while toks[pos] != ")":
                vals.append(pred())
                if toks[pos] == ",":
                    pos += 1
            pos += 1
            if name == "all":
                return all(vals)
            if name == "any":
                return any(vals)
            return not vals[0]
        if pos < len(toks) and toks[pos] == "=":
            value = toks[pos + 1].strip('"')
            pos += 2
            if name == "feature":
                return value in features
            return value in CFG_VALUES.get(name, set())
        return CFG_NAMES.get(name, False)

    return pred()


def crate_cfgs(source):
    """The crate-level `#![cfg(...)]` predicates of a test file."""
    text = re.sub(r"//[^\n]*", "", source)
    out = []
    for m in re.finditer(r"#!\[\s*cfg\s*\(", text):
        i, depth = m.end(), 1
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append(" ".join(text[m.end():i - 1].split()))
    return out


# ------------------------------------------------------- crate and package

def log(msg):
    print(f"tokio-suite: {msg}", file=sys.stderr, flush=True)


def find_crate():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    pattern = os.path.join(home, "registry", "cache", "*", f"{SUITE}-{CRATE_VERSION}.crate")
    found = sorted(glob.glob(pattern))
    if found:
        return found[0]
    log(f"{SUITE}-{CRATE_VERSION}.crate is not in cargo's cache: fetching it")
    fetch = os.path.join(WORK, "fetch")
    os.makedirs(os.path.join(fetch, "src"), exist_ok=True)
    with open(os.path.join(fetch, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "tokio-suite-fetch"\nversion = "0.0.0"\nedition = "2021"\n'
                f'publish = false\n\n[workspace]\n\n[dependencies]\n{SUITE} = "={CRATE_VERSION}"\n')
    with open(os.path.join(fetch, "src", "lib.rs"), "w") as f:
        f.write("")
    if subprocess.run(["cargo", "fetch", "--manifest-path", os.path.join(fetch, "Cargo.toml")]).returncode != 0:
        sys.exit(f"tokio-suite: cargo fetch of {SUITE} {CRATE_VERSION} failed")
    found = sorted(glob.glob(pattern))
    if not found:
        sys.exit(f"tokio-suite: cargo fetch did not leave {pattern}")
    return found[0]


def unpack(crate):
    digest = hashlib.sha256(open(crate, "rb").read()).hexdigest()
    if digest != CRATE_SHA256:
        sys.exit(f"tokio-suite: {crate}: sha256 {digest}, expected {CRATE_SHA256}")
    shutil.rmtree(CRATE_DIR, ignore_errors=True)
    os.makedirs(CRATE_DIR)
    prefix = f"{SUITE}-{CRATE_VERSION}/"
    with tarfile.open(crate, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if not name.startswith(prefix):
                continue
            rel = name[len(prefix):]
            if not (rel == "Cargo.toml" or rel.startswith("tests/")):
                continue
            if not (member.isfile() or member.isdir()) or ".." in rel.split("/"):
                continue
            dest = os.path.join(CRATE_DIR, rel)
            if member.isdir():
                os.makedirs(dest, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with tar.extractfile(member) as src, open(dest, "wb") as out:
                out.write(src.read())
    return digest


def write_if_changed(path, data):
    """Leaves an unchanged file's mtime alone, so cargo does not rebuild."""
    if isinstance(data, str):
        data = data.encode()
    try:
        if open(path, "rb").read() == data:
            return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return str(v)


def dev_dependencies(manifest):
    """tokio's dev-dependencies that apply to this machine (Linux, no
    tokio_unstable, no loom), with their versions and features as listed."""
    deps = dict(manifest.get("dev-dependencies", {}))
    for spec, table in manifest.get("target", {}).items():
        m = re.fullmatch(r"cfg\((.*)\)", spec.strip())
        if m and cfg_eval(m.group(1), set()) and "dev-dependencies" in table:
            deps.update(table["dev-dependencies"])
    out = {}
    for name, spec in sorted(deps.items()):
        if isinstance(spec, str):
            spec = {"version": spec}
        spec = {k: v for k, v in spec.items() if k in ("version", "features", "default-features", "package")}
        out[name] = spec
    # tokio's own dependencies are in scope for its tests too (`use bytes::...`):
    # those the test files name.
    text = ""
    for root, _, names in os.walk(os.path.join(CRATE_DIR, "tests")):
        for n in names:
            if n.endswith(".rs"):
                text += open(os.path.join(root, n), errors="replace").read()
    normal = dict(manifest.get("dependencies", {}))
    for spec, table in manifest.get("target", {}).items():
        m = re.fullmatch(r"cfg\((.*)\)", spec.strip())
        if m and cfg_eval(m.group(1), set()) and "dependencies" in table:
            normal.update(table["dependencies"])
    for name, spec in sorted(normal.items()):
        ident = name.replace("-", "_")
        if name in out or not re.search(rf"\b(?:use\s+|::)?{ident}::", text):
            continue
        if isinstance(spec, str):
            spec = {"version": spec}
        out[name] = {k: v for k, v in spec.items() if k in ("version", "features", "default-features", "package")}
    out["tokio"] = {"version": "1", "features": ["full", "test-util"]}
    if SUITE != "tokio":
        # The crate under test, from the registry, with every feature its
        # tests may gate on; tokio under it is the shim.
        out[SUITE] = {"version": f"={CRATE_VERSION}", "features": crate_features(manifest)}
    return out


def crate_features(manifest):
    """The features of a suite's crate that its tests can use: all but the
    hidden ones (`__docs_rs`)."""
    return [f for f in manifest.get("features", {}) if f != "default" and not f.startswith("__")]


def patch_table():
    proc = subprocess.run(["cargo", "run", "-q", "-p", "tau-cli", "--", "patch-config"],
                          cwd=REPO, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"tokio-suite: `cargo run -p tau-cli -- patch-config` failed (exit {proc.returncode}); see above")
    out = proc.stdout
    if "[patch.crates-io]" not in out:
        sys.exit(f"tokio-suite: patch-config printed no [patch.crates-io] table:\n{out}")
    return out.strip() + "\n"


def suite_features():
    """The feature names the suite's test files may gate on."""
    if SUITE == "tokio":
        return FEATURES
    return crate_features(tomllib.load(open(os.path.join(CRATE_DIR, "Cargo.toml"), "rb")))


def package_features(deps):
    """The [features] of the generated package: named like the crate's, all
    on by default (a test file's `cfg(feature = ..)` is the package's)."""
    if SUITE == "tokio":
        return ['default = ["full", "test-util"]', "full = " + toml_value(SUB_FEATURES)] + \
            [f'{json.dumps(f)} = []' for f in ["test-util"] + SUB_FEATURES]
    # A feature may not share a dependency's name.
    names = [f for f in suite_features() if f not in deps]
    return ["default = " + toml_value(names)] + [f"{json.dumps(f)} = []" for f in names]


def generate_package(files):
    manifest = tomllib.load(open(os.path.join(CRATE_DIR, "Cargo.toml"), "rb"))
    deps = dev_dependencies(manifest)
    # The package's tests/ is a copy of the crate's (support/ and all).
    src_tests = os.path.join(CRATE_DIR, "tests")
    for root, _, names in os.walk(src_tests):
        for n in names:
            p = os.path.join(root, n)
            write_if_changed(os.path.join(PKG, "tests", os.path.relpath(p, src_tests)), open(p, "rb").read())
    lines = [
        f"# Generated by scripts/tokio-suite.sh: {SUITE} {CRATE_VERSION}'s tests/ against tau's tokio shim.",
        "[package]",
        f'name = "{SUITE}-upstream-tests"',
        'version = "0.0.0"',
        'edition = "2021"',
        "publish = false",
        "autotests = false",
        "autobins = false",
        "autoexamples = false",
        "autobenches = false",
        "",
        "[workspace]",
        "",
        "[features]",
    ] + package_features(deps) + [
        "",
        "[lints.rust]",
        'unexpected_cfgs = "allow"',
        "",
        "[dev-dependencies]",
    ] + [f"{name} = {toml_value(spec)}" for name, spec in deps.items()] + [""]
    for name in sorted(files):
        lines += ["[[test]]", f"name = {json.dumps(name[:-3])}", f'path = "tests/{name}"', ""]
    text = "\n".join(lines) + "\n" + patch_table()
    write_if_changed(os.path.join(PKG, "Cargo.toml"), text)
    return deps


# ------------------------------------------------------------ selection

def select_files(globs, include_skipped):
    tests = os.path.join(CRATE_DIR, "tests")
    every = sorted(n for n in os.listdir(tests) if n.endswith(".rs"))
    chosen = []
    for g in globs:
        if not g.endswith(".rs") and not g.endswith("*"):
            g += ".rs"
        hits = [n for n in every if fnmatch.fnmatch(n, g)]
        if not hits:
            log(f"warning: no test file matches {g!r}")
        chosen += [n for n in hits if n not in chosen]
    run, skipped = [], []
    for name in sorted(chosen):
        reason = SKIP.get(name)
        for pat, why in SKIP_PATTERNS:
            if reason is None and fnmatch.fnmatch(name, pat):
                reason = why
        if reason is None:
            for pred in crate_cfgs(open(os.path.join(tests, name)).read()):
                if not cfg_eval(pred, set(suite_features())):
                    if "tokio_unstable" in pred:
                        why = "needs tokio_unstable (tokio's unstable internals)"
                    else:
                        why = "not for Linux: its tests compile to nothing here"
                    reason = f"{why} — `#![cfg({pred})]`"
                    break
        if reason and not include_skipped:
            skipped.append((name, reason))
        else:
            run.append(name)
    return run, skipped


# --------------------------------------------------------------- compile

SHIM_MARKERS = ("/shims/", "/vendor/tokio", "/tau-sdk", "/tau-rt", "/tau-macros")


def compile_file(name, timeout):
    """cargo test --no-run for one file. Returns dict(ok, exe, errors, secs)."""
    test = name[:-3]
    cmd = ["timeout", "-k", "10", str(timeout), "cargo", "test",
           "--manifest-path", os.path.join(PKG, "Cargo.toml"), "--target-dir", TARGET,
           "--test", test, "--no-run", "--message-format=json"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=PKG, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    secs = time.monotonic() - t0
    exe, errors, rendered, built = None, [], [], 0
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and not msg.get("fresh") and msg["target"]["name"] != test:
            built += 1
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                msg["target"]["name"] == test and "test" in msg["target"]["kind"]:
            exe = msg["executable"]
        elif msg.get("reason") == "compiler-message":
            m = msg["message"]
            if m["level"] == "error":
                rendered.append(m.get("rendered") or m["message"])
            if m["level"] != "error" or m["message"].startswith("aborting due to"):
                continue
            span = next((s for s in m.get("spans", []) if s.get("is_primary")), None)
            # An error inside a macro (assert_eq!, a std macro): the place in the test that expanded it.
            while span and os.path.isabs(span["file_name"]) and span.get("expansion"):
                span = span["expansion"]["span"]
            loc = f"{span['file_name']}:{span['line_start']}" if span else ""
            in_shim = any(x in msg.get("package_id", "") for x in SHIM_MARKERS) or \
                any(x in (span or {}).get("file_name", "") for x in SHIM_MARKERS)
            label = ""
            if span and span.get("label"):
                label = span["label"]
            notes = " ".join(c["message"] for c in m.get("children", []))
            via = {}
            for c in re.findall(r"multiple `impl`s satisfying `[^`]+` found in the following crates: ([^:]*):", notes):
                for crate_ in c.split(","):
                    crate_ = crate_.strip("` ")
                    if crate_ not in ("core", "alloc", "std"):
                        via[crate_] = dep_chain(crate_)
            errors.append({"message": m["message"], "code": (m.get("code") or {}).get("code"), "notes": notes, "via": via,
                           "loc": loc, "label": label, "in_shim": in_shim,
                           "package": msg.get("package_id", "")})
    if exe is None and not errors:
        err = [l for l in proc.stderr.splitlines() if l.startswith("error")]
        msg = err[0] if err else f"cargo exited {proc.returncode}"
        if proc.returncode in (124, 137):
            msg = f"compile timed out after {timeout}s"
        errors.append({"message": msg, "code": None, "loc": "", "label": "", "in_shim": False, "package": ""})
    with open(os.path.join(LOGS, f"{test}.compile.txt"), "w") as f:
        f.write("$ " + shlex.join(cmd) + "\n\n" + "\n".join(rendered) + "\n--- cargo stderr ---\n" + proc.stderr)
    return {"ok": exe is not None and proc.returncode == 0, "exe": exe, "errors": errors, "secs": secs,
            "built": built}


# ------------------------------------------------------------------- run

NO_MESSAGE = "failed (no panic message)"
RESULT_RE = re.compile(r"^test (\S+)(?: - should panic)? \.\.\. (ok|FAILED|ignored)(?:, (.*))?$")
STARTED_RE = re.compile(r"^test (\S+)(?: - should panic)? \.\.\. ?(.*)$")


def cpu_secs(pid):
    """CPU time (user + system, every thread) a live process has used, from
    /proc/PID/stat; None where there is no such file."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# A killed test that used at least this share of one core while it gave no
# output was spinning, not waiting (an idle one uses next to none; a spin
# may get much less than a core on a loaded machine).
SPIN_SHARE = 0.2


def run_binary(exe, args, idle_timeout, deadline, logf):
    """Runs a test binary; kills it (its whole process group) when stdout is
    silent for idle_timeout seconds or the deadline passes. Returns
    (stdout, stderr, returncode or None, why_killed, burn), burn being
    (CPU seconds, wall seconds) of the killed process since its last output."""
    env = dict(os.environ, CARGO_MANIFEST_DIR=PKG, CARGO_PKG_NAME=f"{SUITE}-upstream-tests",
               RUST_BACKTRACE="0")
    logf.write(f"\n$ {shlex.join([exe] + args)}\n")
    logf.flush()
    p = subprocess.Popen([exe] + args, cwd=PKG, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    out, err = bytearray(), bytearray()
    fds = {p.stdout.fileno(): out, p.stderr.fileno(): err}
    last = time.monotonic()
    cpu_at_last = 0.0
    killed, burn = None, None
    while fds:
        now = time.monotonic()
        if now - last > idle_timeout:
            killed = "idle"
        elif now > deadline:
            killed = "deadline"
        if killed:
            cpu = cpu_secs(p.pid)
            if cpu is not None:
                burn = (cpu - cpu_at_last, now - last)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        ready, _, _ = select.select(list(fds), [], [], 1.0)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                del fds[fd]
                continue
            fds[fd].extend(chunk)
            if fd == p.stdout.fileno():
                last = time.monotonic()
                cpu_at_last = cpu_secs(p.pid) or cpu_at_last
    rc = p.wait()
    # Children the test left behind (a `sleep` a process test spawned).
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    so, se = out.decode(errors="replace"), err.decode(errors="replace")
    logf.write(so + ("\n--- stderr ---\n" + se if se.strip() else "") +
               f"\n--- exit {rc}{', killed: ' + killed if killed else ''}"
               f"{f', {burn[0]:.1f}s CPU in its last {burn[1]:.0f}s' if burn else ''} ---\n")
    logf.flush()
    return so, se, (None if killed else rc), killed, burn


def hung(message, burn):
    """The result of a test killed for having no result: spinning or idle."""
    r = {"status": "hung", "message": message}
    if burn:
        cpu, wall = burn
        r["cpu_secs"], r["wall_secs"] = round(cpu, 1), round(wall, 1)
        r["spin"] = cpu >= SPIN_SHARE * wall
        r["message"] += (f"; burning CPU: {cpu:.1f}s of CPU in its last {wall:.0f}s" if r["spin"]
                         else f"; idle: {cpu:.1f}s of CPU in its last {wall:.0f}s")
    return r


def _panics(text):
    """The panic messages (first line each) in a block of output, in order."""
    out = []
    lines = text.splitlines()
    for i, l in enumerate(lines):
        m = re.search(r"panicked at (\S+):$", l)
        if m:
            rest = [x for x in lines[i + 1:] if x.strip()]
            if not rest:
                continue
            first = rest[0].strip()
            if first.startswith("assertion `left"):
                # The values tell more than the assertion: keep them.
                vals = [x.strip() for x in rest[1:3] if re.match(r"\s*(left|right):", x)]
                first += " " + "; ".join(v[:150] for v in vals)
            out.append(first)
            continue
        m = re.search(r"panicked at '(.*)', \S+$", l) or re.search(r"panicked at \S+:\d+:\d+:\s*(.+)$", l)
        if m:
            out.append(m.group(1))
    return out


def first_panic(text):
    """The message of the panic that failed a test: the last one in its
    output (tokio's tests often make tasks panic on purpose first)."""
    m = re.search(r'note: panic did not contain expected string\n\s*panic message: (.*)\n\s*expected substring: (.*)', text)
    if m:
        return f"panic message differs from tokio's: expected {m.group(2).strip()}, got {m.group(1).strip()}"
    panics = _panics(text)
    if panics:
        last = panics[-1]
        if len(panics) > 1 and panics[0] != last:
            last += f" [after {len(panics) - 1} earlier panic{'s' if len(panics) > 2 else ''}; first: {panics[0][:120]}]"
        return last
    for l in text.splitlines():
        if l.startswith("note: test did not panic as expected"):
            return "test did not panic as expected (should_panic)"
        if "fatal runtime error" in l or "Error:" in l:
            return l.strip()
    return ""


def failure_sections(stdout):
    """name -> the output libtest printed for each failed test."""
    out = {}
    for m in re.finditer(r"^---- (\S+) stdout ----\n(.*?)(?=^---- \S+ stdout ----$|^failures:$|\Z)",
                         stdout, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def describe_exit(rc):
    if rc is None:
        return "killed"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exited {rc}"


def run_file(name, exe, idle_timeout, file_timeout):
    """Runs one test binary, restarting it past a test that hangs or
    crashes the process, until every test has a result or the file's time
    is up. Returns the per-test results."""
    test = name[:-3]
    t0 = time.monotonic()
    deadline = t0 + file_timeout
    with open(os.path.join(LOGS, f"{test}.run.txt"), "w") as logf:
        listed, _, rc, _, _ = run_binary(exe, ["--list"], 60, time.monotonic() + 60, logf)
        names = [l[:-len(": test")] for l in listed.splitlines() if l.endswith(": test")]
        results = {}  # name -> dict(status, message)
        attempts = 0
        crash_probes = 0
        while True:
            todo = [n for n in names if n not in results]
            if not todo or time.monotonic() > deadline:
                break
            attempts += 1
            args = ["--test-threads=1"]
            if results:
                args += ["--exact"] + [a for n in results for a in ("--skip", n)]
            before = len(results)
            so, se, rc, killed, burn = run_binary(exe, args, idle_timeout, deadline, logf)
            sections = failure_sections(so)
            current = None
            for line in so.splitlines():
                m = STARTED_RE.match(line)
                if not m:
                    continue
                tname, rest = m.group(1), m.group(2).strip()
                r = RESULT_RE.match(line)
                if r:
                    status = {"ok": "passed", "FAILED": "failed", "ignored": "ignored"}[r.group(2)]
                    msg = ""
                    if status == "failed":
                        msg = first_panic(sections.get(tname, "")) or NO_MESSAGE
                    elif status == "ignored" and r.group(3):
                        msg = r.group(3)
                    results[tname] = {"status": status, "message": msg}
                    current = None
                else:
                    current = tname  # started, no result (yet)
            if "test result:" in so and current is None and rc is not None:
                if len(results) == before:
                    for n in names:
                        results.setdefault(n, {"status": "not run",
                                               "message": "listed by --list, but no result was printed for it"})
                continue  # a complete run; loop ends when nothing is left
            # The process ended early: a hang, a crash, an abort.
            if current is None:
                todo = [n for n in names if n not in results]
                if not todo:
                    break
                # Died before printing "test X ...": blame the next test.
                current = todo[0]
            if killed == "idle":
                results[current] = hung(f"no result after {idle_timeout}s (killed)", burn)
            elif killed == "deadline":
                results[current] = hung(f"file time limit ({file_timeout}s) reached while it ran", burn)
                break
            else:
                msg = first_panic(se)
                if not msg and crash_probes < 3 and time.monotonic() < deadline:
                    # Its captured output died with the process: run it alone, uncaptured.
                    crash_probes += 1
                    so2, se2, rc2, _, _ = run_binary(exe, ["--exact", current, "--nocapture", "--test-threads=1"],
                                                  min(idle_timeout, 30), deadline, logf)
                    msg = first_panic(so2 + "\n" + se2)
                    if not msg:
                        tail = [l for l in se2.splitlines() if l.strip()]
                        msg = tail[-1].strip() if tail else ""
                if not msg:
                    tail = [l for l in se.splitlines() if l.strip()]
                    msg = tail[-1].strip() if tail else ""
                results[current] = {"status": "crashed",
                                    "message": f"process {describe_exit(rc)}" + (f": {msg}" if msg else "")}
        # A failure whose output died with a later hang or crash: run it alone for its message.
        lost = [n for n, v in results.items() if v["status"] == "failed" and v["message"] == NO_MESSAGE]
        for n in lost[:10]:
            if time.monotonic() > deadline:
                break
            so, se, _, _, _ = run_binary(exe, ["--exact", n, "--test-threads=1"], min(idle_timeout, 30),
                                      min(deadline, time.monotonic() + 60), logf)
            msg = first_panic(failure_sections(so).get(n, ""))
            if msg:
                results[n]["message"] = msg
            elif re.search(rf"^test {re.escape(n)}(?: - should panic)? \.\.\. ok$", so, re.M):
                results[n]["message"] = "failed in the file's run, passed when run alone (flaky or order-dependent)"
        for n in names:
            if n not in results:
                results[n] = {"status": "not run", "message": "file time limit reached before it ran"}
    return {"tests": results, "attempts": attempts, "secs": time.monotonic() - t0}


# ---------------------------------------------------------------- causes

def compile_cause(e):
    """What a compile error says the shim lacks, where that is clear."""
    msg = e["message"]
    if e["in_shim"]:
        return "shim does not compile"
    m = re.search(r"multiple `impl`s satisfying `([^`]+)` found in the following crates: ([^:]*):", e.get("notes", ""))
    if m:
        extra = [c.strip("` ") for c in m.group(2).split(",") if c.strip("` ") not in ("core", "alloc", "std")]
        return (f"shim's dependency graph: {', '.join(f'`{c}`' + e.get('via', {}).get(c, '') for c in extra)} adds impls of `{m.group(1)}`, "
                "so tokio's code no longer infers a type (`assert_eq!(x, [])`)")
    pats = [
        (r"cannot find (?:function|type|struct|value|macro|trait|enum|associated function|attribute macro) `([^`]+)` in (?:module|crate) `([^`]+)`",
         lambda m: f"shim gap: missing `{m.group(2)}::{m.group(1)}`"),
        (r"failed to resolve: could not find `([^`]+)` in `([^`]+)`",
         lambda m: f"shim gap: missing `{m.group(2)}::{m.group(1)}`"),
        (r"could not find `([^`]+)` in `([^`]+)`",
         lambda m: f"shim gap: missing `{m.group(2)}::{m.group(1)}`"),
        (r"unresolved imports? `([^`]+)`",
         lambda m: f"shim gap: missing `{m.group(1)}`"),
        (r"no method named `([^`]+)` found for (?:struct|enum|reference|mutable reference|type parameter|opaque type|trait object|type|union) `([^`]+)`",
         lambda m: f"shim gap: missing method `{short_type(m.group(2))}::{m.group(1)}`"),
        (r"no function or associated item named `([^`]+)` found for (?:struct|enum|type) `([^`]+)`",
         lambda m: f"shim gap: missing `{short_type(m.group(2))}::{m.group(1)}`"),
        (r"no (?:associated item|variant or associated item) named `([^`]+)` found for (?:struct|enum) `([^`]+)`",
         lambda m: f"shim gap: missing `{short_type(m.group(2))}::{m.group(1)}`"),
        (r"no field `([^`]+)` on type `([^`]+)`",
         lambda m: f"shim gap: missing field `{short_type(m.group(2))}.{m.group(1)}`"),
        (r"the trait bound `([^`]+): ([^`]+)` is not satisfied",
         lambda m: f"shim gap: `{short_type(m.group(1))}` does not implement `{m.group(2)}`"),
        (r"`([^`]+)` cannot be (sent|shared) between threads safely",
         lambda m: f"shim difference: `{short_type(m.group(1))}` is not {'Send' if m.group(2) == 'sent' else 'Sync'}"),
        (r"the method `([^`]+)` exists for (?:struct|enum) `([^`]+)`, but its trait bounds were not satisfied",
         lambda m: f"shim gap: `{short_type(m.group(2))}::{m.group(1)}` needs bounds the shim's type lacks"),
        (r"(?:this|the) (?:function|method) takes (\d+) arguments? but (\d+) arguments? (?:was|were) supplied",
         lambda m: "shim difference: a signature differs from tokio's (argument count)"),
        (r"mismatched types", lambda m: "shim difference: a type differs from tokio's (mismatched types"
                                         + (f": {e['label']})" if e.get("label") else ")")),
        (r"private", lambda m: "shim difference: an item is private in the shim"),
    ]
    m = re.search(r"within `([^`]+)`, the trait `([^`]+)` is not implemented for", e.get("notes", ""))
    if m:
        return f"shim difference: `{m.group(1)}` is not `{m.group(2)}` (tokio's is)"
    for pat, f in pats:
        m = re.search(pat, msg)
        if m:
            return f(m)
    if "compile timed out" in msg:
        return "compile timed out"
    return ""


_CHAINS = {}


def dep_chain(crate):
    """` (via a ← b)`: how a crate comes into the package's graph."""
    if crate not in _CHAINS:
        out = subprocess.run(["cargo", "tree", "--manifest-path", os.path.join(PKG, "Cargo.toml"), "-i", crate,
                              "-e", "normal,dev", "--prefix", "depth", "--offline"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        chain, want = [], 1
        for line in out.splitlines():
            m = re.match(r"^(\d+)(\S+)", line)
            if m and int(m.group(1)) == want:
                chain.append(m.group(2))
                want += 1
                if m.group(2).startswith(("tau-", "tokio")):
                    break
        _CHAINS[crate] = f" (via {' ← '.join(chain)})" if chain else ""
    return _CHAINS[crate]


def short_type(t):
    """`tokio::net::TcpStream` -> `TcpStream`, generics dropped."""
    t = re.sub(r"<.*>", "", t)
    return t


RUN_CAUSES = [
    (r"^panic message differs from tokio's", "shim difference: panic message differs from tokio's"),
    (r"clock cannot be paused|time::pause|pause\(\)|paused clock|start_paused|auto-advance|time::advance",
     "tau limit: no paused clock (test-util: `start_paused`, `time::pause`/`advance`)"),
    (r"can call blocking only when running on the multi-threaded runtime",
     "tau limit: one executor thread, no `task::block_in_place`"),
    (r"used off the runtime's thread",
     "tau limit: I/O resources are created and polled on the runtime's thread only"),
    (r"tau::task::id\(\) called outside of a task",
     "shim gap: `task::id()` not available while a task's future or output is dropped"),
    (r"timeout should not trigger",
     "behaviour: clock paused, auto-advance fires a `timeout` while a `spawn_blocking` task still runs (tokio does "
     "not advance while blocking work is in flight)"),
    (r"thread local panicked on drop",
     "shim bug: the process aborts: a thread-local's destructor panics at thread exit"),
    (r"cannot access a Thread Local Storage value during or after destruction",
     "shim bug: the process aborts: a destructor run at thread exit touches a thread-local already destroyed"),
    (r"test did not panic as expected", "behaviour: tokio panics here, the shim does not"),
    (r"overflow when adding duration to instant",
     "shim gap: a huge duration overflows `Instant + Duration` (tokio saturates to its far future)"),
    (r"passed when run alone", "flaky or order-dependent"),
    (r"not (?:yet )?implemented|unimplemented|not supported (?:by|on|in) (?:tau|the shim)|unsupported",
     "shim gap: not implemented"),
    (r"multi.?thread|worker_threads|block_in_place",
     "tau limit: single-threaded runtime (no multi-thread flavor)"),
    (r"Cannot start a runtime from within a runtime|cannot (?:start|block_on).*within",
     "behaviour: nested runtime / block_on inside a runtime"),
    (r"there is no reactor running|must be called from the context of a Tokio|no current runtime",
     "behaviour: runtime context (Handle::current / enter) differs"),
]


# Failing tests whose message alone does not say why, with what the test
# checks (from reading it): used only when no rule above matched.
KNOWN = {
    "task_blocking::useful_panic_message_when_dropping_rt_in_rt":
        "behaviour: tokio panics (\"Cannot drop a runtime in a context where blocking is not allowed\") when a "
        "runtime is dropped inside `block_on`; the shim does not",
    "task_join_set::replace_parent_waker_drops_outside_lock":
        "behaviour: `JoinSet::poll_join_next` right after `spawn_on(.., rt.handle())`, outside `block_on`, is not "
        "pending (tokio's task has not run yet)",
    "tcp_shutdown::shutdown_after_tcp_reset":
        "behaviour: `shutdown()` after the peer's reset returns the OS's ENOTCONN; tokio's returns `Ok(())`",
    "uds_datagram::pair_starts_writable":
        "behaviour: a new `UnixDatagram::pair()` is not send-ready on its first poll (tokio's starts out writable)",
    "uds_stream::pair_starts_writable":
        "behaviour: a new `UnixStream::pair()` is not write-ready on its first poll (tokio's starts out writable)",
    "tcp_accept::accept_many":
        "behaviour: a connection wakes only some of the 50 tasks waiting in `accept()` (tokio wakes every waiter)",
    "signal_drop_recv::drop_then_get_a_signal":
        "behaviour: a SIGUSR1 sent after the first `Signal` is dropped and before the second is made never "
        "reaches the second (tokio's does)",
    "time_pause::pause_time_in_main_threads":
        "tau difference: `flavor = \"multi_thread\"` runs on tau's one thread, where `time::pause()` is allowed "
        "(tokio panics: pausing needs a current_thread runtime)",
    "time_pause::pause_time_in_spawn_threads":
        "tau difference: `flavor = \"multi_thread\"` runs on tau's one thread, where `time::pause()` is allowed "
        "(tokio panics: pausing needs a current_thread runtime)",
    "time_pause::interval":
        "behaviour: clock paused, an `interval_at(start, 300ms)` polled by tokio-test's mock task is pending where "
        "tokio's is ready, around `time::advance`",
    "task_blocking::can_shutdown_now_in_runtime":
        "behaviour: `Runtime::shutdown_background()` inside another runtime's `block_on` panics \"Cannot drop a "
        "runtime...\"; tokio allows it",
    "task_blocking::can_shutdown_with_zero_timeout_in_runtime":
        "behaviour: `Runtime::shutdown_timeout(0)` inside another runtime's `block_on` panics \"Cannot drop a "
        "runtime...\"; tokio allows it",
    "task_local_set::join_local_future_elsewhere":
        "tau limit: one thread: `tokio::spawn` from inside a `LocalSet` runs on the LocalSet's thread (tokio: on "
        "a worker)",
    "macros_test::test_macro_should_handle_the_name_if_provided":
        "shim gap: the runtime's name (`#[tokio::test(name = ..)]`, `Builder::name`) is not kept: "
        "`Handle::name()` is None",
    "io_async_fd::poll_fns":
        "behaviour: an `AsyncFd` poll_*_ready waker is woken when tokio's is not",
    "io_async_fd::await_error_readiness_invalid_address":
        "behaviour: `AsyncFd::ready(Interest::ERROR)` returns with readable set (tokio: only the error readiness)",
    "io_async_fd::await_error_readiness_timestamping":
        "behaviour: `AsyncFd::ready(Interest::ERROR)` returns with readable set (tokio: only the error readiness)",
    "task_join_set::join_set_coop":
        "behaviour: `JoinSet::join_next` does not consume the coop budget (tokio's yields after 128 ready tasks)",
    "time_timeout::deadline_now_elapses":
        "behaviour: clock paused, `timeout_at(Instant::now(), ..)` (polled by tokio-test's mock task) is still "
        "pending after `time::advance(1ms)`",
}


def known_key(file, test):
    """KNOWN's key of a test: `file::test`, under `suite/` for the suites
    other than tokio's (their file names overlap tokio's: `udp.rs`)."""
    key = f"{(file or '')[:-3]}::{test}"
    return key if SUITE == "tokio" else f"{SUITE}/{key}"


def run_cause(status, message, file=None, test=None):
    key = known_key(file, test)
    if message.startswith("test did not panic as expected") and key in KNOWN:
        return KNOWN[key]  # says which panic tokio's has
    for pat, cause in RUN_CAUSES:
        if re.search(pat, message, re.I):
            return cause
    if test and test.endswith("_panic_caller"):
        if "Option::unwrap()` on a `None`" in message:
            return "behaviour: tokio panics here (the test checks where), the shim does not panic"
        if message.startswith("assertion `left == right` failed"):
            m = re.search(r'left: "([^"]+)"', message)
            return ("shim difference: the panic is reported inside the shim"
                    + (f" (`{os.path.relpath(m.group(1), REPO)}`)" if m else "")
                    + ", not at the caller: `#[track_caller]` missing")
    if file == "fs_try_exists.rs" and hasattr(os, "geteuid") and os.geteuid() == 0:
        return "environment: run as root, so the permission-denied case cannot happen (not the shim)"
    if key in KNOWN:
        return KNOWN[key]
    if file == "time_interval.rs" and message == "pending":
        return ("behaviour: clock paused, an `Interval` polled by tokio-test's mock task does not tick after "
                "`time::advance` (tokio's does)")
    if file == "tcp_accept_ready.rs" and status == "failed":
        return ("behaviour: an accepted `TcpStream` is not assumed readable and writable on its first poll "
                "(tokio 1.54's is: its first read/write tries the syscall)")
    if file == "rt_common.rs" and "threaded_scheduler_4_threads" in (test or "") and status == "hung":
        return "tau limit: one thread: tasks that block on a std `Barrier` sized for 4 workers deadlock"
    if SUITE == "tokio-util" and file == "time_delay_queue.rs" and "reset" in (test or "") \
            and "is_woken" in message:
        return ("behaviour: after `DelayQueue::reset`, the queue's task is not woken by the new deadline "
                "(tokio-test's mock task: `is_woken()` false)")
    if status == "hung":
        if "burning CPU" in message:
            return "behaviour: spins: burns CPU with no result within the time limit (worse than an idle hang)"
        return "behaviour: hangs (no result within the time limit)"
    return ""


def file_outcome(r):
    if r.get("compile"):
        c = r["compile"]
        if not c["ok"]:
            return "compile error"
    t = r.get("run", {}).get("tests", {})
    if not t:
        return "no tests"
    st = [x["status"] for x in t.values()]
    for s in ("crashed", "hung", "failed"):
        if s in st:
            return {"crashed": "crash", "hung": "hang", "failed": "failures"}[s] + \
                   ("" if s == "failed" else (" + failures" if "failed" in st else ""))
    if "not run" in st:
        return "time limit"
    return "passed"


# ----------------------------------------------------------------- report

def show_message(msg):
    """Results saved by an older run said "got X, expected Y": the expected text first."""
    m = re.match(r"panic message differs from tokio's: got (.*), expected (\".*\")$", msg)
    return f"panic message differs from tokio's: expected {m.group(2)}, got {m.group(1)}" if m else msg


def show_status(v):
    """A test's result; for a hung one, whether it burned CPU or sat idle."""
    if v["status"] == "hung" and "spin" in v:
        return "hung, **burning CPU**" if v["spin"] else "hung, idle"
    return v["status"]


def md(s):
    s = str(s).replace("|", "\\|").replace("\n", " ")
    return s if len(s) <= 300 else s[:297] + "..."


def code(s):
    s = md(s)
    if not s:
        return ""
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def git(*args):
    try:
        return subprocess.run(["git", *args], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        return ""


def tree_state():
    """HEAD, and a digest of the uncommitted changes to what the tests compile (the shim, tau)."""
    paths = ["shims", "vendor", "tau-sdk", "tau-rt", "tau-macros"]
    diff = git("diff", "HEAD", "--", *paths)
    untracked = git("ls-files", "--others", "--exclude-standard", "--", *paths)
    h = hashlib.sha256(diff.encode())
    for f in untracked.splitlines():
        try:
            h.update(f.encode() + open(os.path.join(REPO, f), "rb").read())
        except OSError:
            pass
    dirty = bool(diff or untracked)
    return {"head": git("rev-parse", "--short", "HEAD"), "dirty": dirty,
            "digest": h.hexdigest()[:12] if dirty else ""}


def describe_tree(t):
    return f"commit {t['head']}" + (f" + uncommitted changes to shims/, vendor/ or tau-*/ (digest {t['digest']})"
                                   if t["dirty"] else "")


def write_report(path, command, started, finished, results, skipped, timings, digest, crate, trees=None):
    counts = {"passed": 0, "failed": 0, "ignored": 0, "hung": 0, "crashed": 0, "not run": 0}
    outcomes = {}
    for name, r in results.items():
        o = file_outcome(r)
        outcomes[name] = o
        for t in r.get("run", {}).get("tests", {}).values():
            counts[t["status"]] += 1
    compile_errors = sum(1 for o in outcomes.values() if o == "compile error")
    trees = trees or {}
    rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    L = []
    work = os.path.relpath(WORK, REPO)
    L.append(f"# {SUITE} {CRATE_VERSION}'s integration tests on tau's tokio shim")
    L.append("")
    L.append("Generated by `scripts/tokio-suite.sh`; do not edit by hand, run it again.")
    L.append("")
    L.append(f"- command: `{command}`")
    deps = timings.get("first_compile_units", 0)
    L.append(f"- date: {started:%Y-%m-%d %H:%M} UTC (took {fmt_secs((finished - started).total_seconds())}: "
             f"compiling {fmt_secs(timings['compile'])}, running {fmt_secs(timings['run'])}; the first file's compile "
             f"took {fmt_secs(timings['first_compile'])}"
             + (f", building {deps} crates it needed first)" if deps else ", its dependencies already built)"))
    if trees.get("start"):
        a, b = trees["start"], trees.get("end") or trees["start"]
        if a == b:
            L.append(f"- tree: {describe_tree(a)}")
        else:
            L.append(f"- tree: **changed during the run**, from {describe_tree(a)} to {describe_tree(b)}: "
                     "later files were compiled against the newer shim")
    if SUITE == "tokio":
        features = "features named like tokio's (`default = [\"full\", \"test-util\"]`)"
    else:
        features = (f"`{SUITE} = \"={CRATE_VERSION}\"` from the registry with its features, the package's own "
                    f"named like {SUITE}'s, all on")
    L.append(f"- tests: the `tests/` directory of {SUITE}-{CRATE_VERSION}.crate (sha256 `{digest}`), unpacked into "
             f"`{work}/pkg`, a package of its own with {SUITE}'s dev-dependencies and {features}, tau's "
             "`[patch.crates-io]` from `tau patch-config` (so tokio is the shim)")
    L.append(f"- {rustc}; each file compiled on its own (`cargo test --no-run --test NAME`), then its binary run with "
             "`--test-threads=1`; a test with no result for the per-test time limit is *hung*, one that takes the "
             "process down is *crashed*, and the binary is started again past it (`--skip`) so the file's other "
             "tests still run. A hung test is *burning CPU* if, from its last output to its kill, its process used "
             f"at least {SPIN_SHARE:.0%} of a core (`/proc/PID/stat`), else *idle*: a spin is a worse bug than a "
             f"hang. Logs: `{work}/logs/`.")
    L.append("")
    L.append("## Summary")
    L.append("")
    ran = [n for n in results]
    L.append(f"{len(ran)} files run, {len(skipped)} not run. Files: "
             + ", ".join(f"{sum(1 for o in outcomes.values() if o == k)} {k}" for k in
                         sorted(set(outcomes.values()), key=lambda k: -sum(1 for o in outcomes.values() if o == k))) + ".")
    L.append("")
    spinning = sum(1 for r in results.values() for t in r.get("run", {}).get("tests", {}).values() if t.get("spin"))
    L.append(f"Tests (in the files that compiled): {counts['passed']} passed, {counts['failed']} failed, "
             f"{counts['hung']} hung ({spinning} of them burning CPU), {counts['crashed']} crashed, "
             f"{counts['ignored']} ignored, "
             f"{counts['not run']} not run (file time limit). Files that did not compile: {compile_errors}.")
    L.append("")
    L.append("*failed* counts the tests that failed, hung or crashed; *cause* is filled in where the messages tell "
             "(see the next sections), and left empty where they do not.")
    L.append("")
    L.append("| file | tests | passed | failed | ignored | outcome | cause |")
    L.append("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for name in sorted(results):
        r = results[name]
        o = outcomes[name]
        t = r.get("run", {}).get("tests", {})
        n = len(t)
        p = sum(1 for x in t.values() if x["status"] == "passed")
        f = sum(1 for x in t.values() if x["status"] in ("failed", "hung", "crashed"))
        i = sum(1 for x in t.values() if x["status"] == "ignored")
        if o == "compile error":
            causes = sorted({compile_cause(e) or "?" for e in r["compile"]["errors"]})
            causes = [c for c in causes if c != "?"] or [""]
            cause = "; ".join(causes[:3]) + (f"; +{len(causes) - 3} more" if len(causes) > 3 else "")
            L.append(f"| [{name}](#{anchor(name)}) | | | | | compile error | {md(cause)} |")
        else:
            fails = {k: v for k, v in t.items() if v["status"] in ("failed", "hung", "crashed", "not run")}
            causes = sorted({run_cause(v["status"], v["message"], name, k) for k, v in fails.items()} - {""})
            cause = "; ".join(causes)
            link = f"[{name}](#{anchor(name)})" if fails else name
            L.append(f"| {link} | {n} | {p} | {f} | {i} | {o} | {md(cause)} |")
    L.append("")
    # Causes, grouped
    groups = {}
    for name in sorted(results):
        r = results[name]
        if outcomes[name] == "compile error":
            classified_locs = {x["loc"] for x in r["compile"]["errors"] if compile_cause(x)}
            for e in r["compile"]["errors"]:
                if not compile_cause(e) and e["loc"] in classified_locs:
                    continue
                c = compile_cause(e) or "compile error, cause not classified: " + e["message"]
                groups.setdefault(c, set()).add(name)
        for tn, v in r.get("run", {}).get("tests", {}).items():
            if v["status"] in ("failed", "hung", "crashed"):
                c = run_cause(v["status"], v["message"], name, tn) or f"{v['status']}, cause not classified"
                groups.setdefault(c, set()).add(f"{name[:-3]}::{tn}")
    L.append("## Failure causes, grouped")
    L.append("")
    L.append("Compile errors are grouped by what they say is missing (every distinct error of every file, not only "
             "the first); failing tests by the panic message where it names a known cause. \"not classified\" "
             "means the message alone does not tell: see the file's section.")
    L.append("")
    L.append("| cause | count | where |")
    L.append("| --- | ---: | --- |")
    for c, where in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        w = sorted(where)
        L.append(f"| {md(c)} | {len(w)} | {md(', '.join(w[:8]) + (f', … (+{len(w) - 8})' if len(w) > 8 else ''))} |")
    L.append("")
    L.append("## Failures, per file")
    L.append("")
    for name in sorted(results):
        r = results[name]
        o = outcomes[name]
        t = r.get("run", {}).get("tests", {})
        fails = {k: v for k, v in t.items() if v["status"] in ("failed", "hung", "crashed", "not run")}
        if o != "compile error" and not fails:
            continue
        L.append(f"### {name}")
        L.append("")
        if o == "compile error":
            errs = r["compile"]["errors"]
            e = errs[0]
            where = "in the shim" if e["in_shim"] else "in the test"
            L.append(f"Compile error ({len(errs)} error{'s' if len(errs) != 1 else ''}; first {where}, "
                     f"`{e['loc'] or '?'}`): {code(e['message'])}" + (f" — {code(e['label'])}" if e["label"] else ""))
            L.append("")
            if any(x["in_shim"] for x in errs):
                L.append("**The error is in the shim itself (its own sources do not compile), not in the test.**")
                L.append("")
            classified_locs = {x["loc"] for x in errs if compile_cause(x)}
            distinct = []
            for x in errs:
                if not compile_cause(x) and x["loc"] in classified_locs:
                    continue
                c = compile_cause(x)
                key = (x["message"], c)
                if key not in [(d["message"], compile_cause(d)) for d in distinct]:
                    distinct.append(x)
            L.append("| error | where | cause |")
            L.append("| --- | --- | --- |")
            for x in distinct[:15]:
                L.append(f"| {code(x['message'])} | {code(x['loc'])} | {md(compile_cause(x))} |")
            if len(distinct) > 15:
                L.append(f"| … {len(distinct) - 15} more distinct errors: see `{work}/logs/{name[:-3]}.compile.txt` | | |")
            L.append("")
            continue
        L.append(f"{len(fails)} of {len(t)} tests did not pass ({o}).")
        L.append("")
        L.append("| test | result | message (first line) | cause |")
        L.append("| --- | --- | --- | --- |")
        for tn in sorted(fails):
            v = fails[tn]
            L.append(f"| `{tn}` | {show_status(v)} | {code(show_message(v['message']))} | {md(run_cause(v['status'], v['message'], name, tn))} |")
        L.append("")
    L.append("## Not run")
    L.append("")
    L.append(f"Files in the selected set that are left out: they test real tokio's internals, or their crate-level "
             "`#![cfg]` is false on Linux without `tokio_unstable`, so they would compile to no tests.")
    L.append("")
    L.append("| file | reason |")
    L.append("| --- | --- |")
    for name, reason in skipped:
        L.append(f"| {name} | {md(reason)} |")
    L.append("")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L))


def anchor(name):
    return re.sub(r"[^a-z0-9_ -]", "", name.lower()).replace(" ", "-")


def fmt_secs(s):
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


# ------------------------------------------------------------------- main

def save_results(command, started, finished, results, skipped, timings, trees, report):
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump({"command": command, "started": started.isoformat(), "trees": trees, "report": report,
                   "finished": (finished or datetime.datetime.now(datetime.timezone.utc)).isoformat(),
                   "complete": finished is not None, "results": results, "skipped": skipped,
                   "timings": timings}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(
        prog="scripts/tokio-suite.sh",
        description="Run tokio " + TOKIO_VERSION + "'s integration tests (or tokio-util's, tokio-stream's) "
                    "against tau's tokio shim, one file at a time, and write a per-file report.")
    ap.add_argument("globs", nargs="*", metavar="GLOB",
                    help="test file names or globs (`sync_*.rs`, `udp`); default for tokio: "
                         + " ".join(DEFAULT_GLOBS) + "; for the others, every file")
    ap.add_argument("--suite", choices=sorted(SUITES), default="tokio",
                    help="whose tests/ to run: " + ", ".join(f"{n} {v['version']}" for n, v in SUITES.items())
                         + " (default tokio)")
    ap.add_argument("--report", help="where to write the report (default: docs/tokio-test-report.md, "
                                     "docs/tokio-util-test-report.md, docs/tokio-stream-test-report.md for the "
                                     "default set, report.md in the suite's work dir when GLOBs are given)")
    ap.add_argument("--test-timeout", type=int, default=60,
                    help="seconds a test may run without a result before it counts as hung (default 60)")
    ap.add_argument("--file-timeout", type=int, default=300,
                    help="seconds for all of one file's runs (default 300)")
    ap.add_argument("--compile-timeout", type=int, default=1800,
                    help="seconds for one file's compile, the dependencies' included (default 1800)")
    ap.add_argument("--include-skipped", action="store_true",
                    help="also run the files the suite would leave out as not meaningful on the shim")
    ap.add_argument("--list", action="store_true", help="print the files that would run and those left out, and exit")
    ap.add_argument("--report-only", action="store_true",
                    help="write the report again from the suite's last run (results.json), running nothing")
    args = ap.parse_args()
    use_suite(args.suite)

    command = "scripts/tokio-suite.sh" + ("" if len(sys.argv) == 1 else " " + shlex.join(sys.argv[1:]))
    started = datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(WORK, exist_ok=True)
    crate = find_crate()
    digest = unpack(crate)
    files, skipped = select_files(args.globs or DEFAULT_GLOBS, args.include_skipped)
    if args.list:
        for n in files:
            print(n)
        for n, why in skipped:
            print(f"{n}  (not run: {why})")
        return 0
    if not files:
        sys.exit("tokio-suite: no test file selected")
    report = args.report or (DEFAULT_REPORT if not args.globs else os.path.join(WORK, "report.md"))
    report = os.path.abspath(report)
    if args.report_only:
        if args.globs:
            sys.exit("tokio-suite: --report-only takes no GLOB: it reports the last run as it was")
        saved = json.load(open(os.path.join(WORK, "results.json")))
        command, started, finished = saved["command"], datetime.datetime.fromisoformat(saved["started"]), \
            datetime.datetime.fromisoformat(saved["finished"])
        skipped = [tuple(x) for x in saved["skipped"]]
        # The report of the run that made these results, unless told otherwise.
        report = os.path.abspath(args.report) if args.report else saved.get("report", report)
        write_report(report, command, started, finished, saved["results"], skipped, saved["timings"], digest, crate,
                     saved.get("trees"))
        log(f"report: {os.path.relpath(report, REPO)} (from results.json)")
        return 0
    log(f"{crate}: sha256 ok; {len(files)} files to run, {len(skipped)} left out")
    generate_package(files)
    os.makedirs(LOGS, exist_ok=True)
    trees = {"start": tree_state()}

    results = {}
    timings = {"compile": 0.0, "run": 0.0, "first_compile": 0.0}
    for i, name in enumerate(files):
        log(f"[{i + 1}/{len(files)}] {name}: compiling")
        c = compile_file(name, args.compile_timeout)
        timings["compile"] += c["secs"]
        if i == 0:
            timings["first_compile"] = c["secs"]
            timings["first_compile_units"] = c["built"]
        r = {"compile": {k: v for k, v in c.items() if k != "exe"}}
        if c["ok"]:
            log(f"[{i + 1}/{len(files)}] {name}: compiled in {fmt_secs(c['secs'])}, running")
            run = run_file(name, c["exe"], args.test_timeout, args.file_timeout)
            timings["run"] += run["secs"]
            r["run"] = run
            st = [v["status"] for v in run["tests"].values()]
            log(f"[{i + 1}/{len(files)}] {name}: " + ", ".join(f"{st.count(s)} {s}" for s in sorted(set(st)))
                + f" in {fmt_secs(run['secs'])}" if st else f"[{i + 1}/{len(files)}] {name}: no tests")
        else:
            e = c["errors"][0]
            log(f"[{i + 1}/{len(files)}] {name}: compile error ({len(c['errors'])}): {e['message']} {e['loc']}")
        results[name] = r
        save_results(command, started, None, results, skipped, timings, trees, report)
    finished = datetime.datetime.now(datetime.timezone.utc)
    trees["end"] = tree_state()
    save_results(command, started, finished, results, skipped, timings, trees, report)
    write_report(report, command, started, finished, results, skipped, timings, digest, crate, trees)
    log(f"report: {os.path.relpath(report, REPO)} ({fmt_secs((finished - started).total_seconds())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
