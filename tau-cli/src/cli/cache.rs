//! `tau cache ls` and `tau cache gc`.

use std::fmt::Write as _;

use tau_host::build::CacheListing;
use tau_host::Builder;

/// The listing, as `tau cache ls` prints it.
pub fn render(listing: &CacheListing) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "cache: {}", listing.root.display());
    if listing.environments.is_empty() && listing.legacy_target.is_none() {
        let _ = writeln!(out, "  (empty)");
    }
    for environment in &listing.environments {
        let (mark, note) = if environment.current { ("*", "  (current)") } else { (" ", "") };
        let _ = writeln!(
            out,
            "{mark} {}  {}  {}{note}",
            environment.hash,
            environment.rustc,
            human_size(environment.size)
        );
        let _ =
            writeln!(out, "    shared dependencies (target/)  {}", human_size(environment.dependencies_size));
        for plugin in &environment.plugins {
            let source =
                plugin.source.as_ref().map_or("?".to_string(), |source| source.display().to_string());
            let profiles = plugin.profiles.join(",");
            let _ = writeln!(out, "    {}  {profiles}  {}  {source}", plugin.name, human_size(plugin.size));
        }
    }
    if let Some((path, size)) = &listing.legacy_target {
        let _ = writeln!(
            out,
            "  {}  {}  (the layout before environments: `tau cache gc` removes it)",
            path.display(),
            human_size(*size)
        );
    }
    out
}

pub fn ls(builder: &Builder) -> Result<(), String> {
    print!("{}", render(&builder.list_cache().map_err(|error| error.to_string())?));
    Ok(())
}

pub fn gc(builder: &Builder, all: bool) -> Result<(), String> {
    let removed = builder.collect_garbage(all).map_err(|error| error.to_string())?;
    for item in &removed {
        println!("removed {} ({})", item.path.display(), human_size(item.size));
    }
    let freed: u64 = removed.iter().map(|item| item.size).sum();
    if removed.is_empty() {
        println!("nothing to remove");
    } else {
        println!("freed {}", human_size(freed));
    }
    if !all {
        if let Ok(environment) = builder.environment() {
            println!("kept the current environment {}", environment.hash());
        }
    }
    Ok(())
}

/// `bytes` for people: `812 B`, `4.1 KiB`, `1.2 GiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
    }
}
