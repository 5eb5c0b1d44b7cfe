//! A soak, issue 11: 1,000 load → call → unload cycles of one plugin, with
//! the stream of each instance kept across its unload and polled after it
//! (it has ended: its plugin is gone) before it is dropped. No crash, no leaked
//! fd; the resident memory each cycle adds is printed (it is what the
//! private copy of the library leaves mapped: libraries are never
//! unmapped, see tau-host's `library` module). BENCHMARKS.md records it:
//!
//! ```sh
//! cargo test -p tau-host --test soak -- --nocapture
//! ```
//!
//! `TAU_SOAK_CYCLES` sets the number of cycles (at least 200).

mod common;

use common::{builder, host, plugin_dir};
use tau::stream::{BoxStream, StreamExt};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 =
        statm.split_whitespace().nth(1).and_then(|field| field.parse().ok()).expect("resident pages");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// Resident anonymous and file-backed memory, from /proc/self/status, in KiB.
fn resident_split() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:"))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

#[test]
fn a_thousand_reloads_with_each_instances_stream_kept_across_its_unload() {
    let cycles: usize =
        std::env::var("TAU_SOAK_CYCLES").ok().and_then(|text| text.parse().ok()).unwrap_or(1000);
    assert!(cycles >= 200, "TAU_SOAK_CYCLES must be at least 200");
    // Release: each cycle maps a private copy of the library, for good.
    let library = builder().release(true).build(&plugin_dir("stream-test-plugin/producer")).unwrap().library;
    let mut host = host();
    let fds_before = open_fds();
    let mut kept: Option<BoxStream<'static, String>> = None;
    let mut resident = Vec::new();
    let started = std::time::Instant::now();
    for cycle in 0..cycles {
        let id = host.load(&library).unwrap_or_else(|error| panic!("cycle {cycle}: {error}"));
        let plugin = host.plugin(id).unwrap();
        let mut tokens: BoxStream<'static, String> = plugin.call("tokens", (3u32,)).unwrap();
        assert_eq!(host.block_on(tokens.next()), Some("token-0".to_string()), "cycle {cycle}");
        if let Some(mut old) = kept.take() {
            assert_eq!(
                host.block_on(old.next()),
                None,
                "cycle {cycle}: the kept stream ended with its plugin"
            );
        }
        host.unload(id).unwrap();
        kept = Some(tokens);
        if cycle == 99 || cycle == cycles - 1 {
            resident.push((resident_bytes(), resident_split()));
        }
    }
    drop(kept);
    let elapsed = started.elapsed();
    assert!(open_fds() <= fds_before + 2, "fds leaked: {} before, {} after", fds_before, open_fds());
    let ((first, (anon_first, file_first)), (last, (anon_last, file_last))) = (resident[0], resident[1]);
    let per_cycle = |from: u64, to: u64| to.saturating_sub(from) as f64 / (cycles - 100) as f64;
    println!(
        "soak: {cycles} cycles in {:.2} s ({:.2} ms each); resident memory {:.1} MiB after 100 cycles, {:.1} MiB after {cycles}: \
         {:.1} KiB per cycle ({:.1} KiB anonymous, {:.1} KiB file-backed)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / cycles as f64,
        first as f64 / 1048576.0,
        last as f64 / 1048576.0,
        per_cycle(first, last) / 1024.0,
        per_cycle(anon_first, anon_last),
        per_cycle(file_first, file_last),
    );
}
