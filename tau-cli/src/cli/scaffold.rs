//! `tau new`: a plugin crate that `tau run` and `cargo test` accept as it is.

use std::path::Path;

use tau_host::Patch;

/// Creates the crate `name` in `dir` (which must not exist or be empty).
pub(crate) fn create(dir: &Path, name: &str, patches: &[Patch]) -> Result<(), String> {
    check_name(name)?;
    if dir.exists()
        && std::fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))?.next().is_some()
    {
        return Err(format!("{}: already exists and is not empty; give a new directory", dir.display()));
    }
    let files = [
        ("Cargo.toml", cargo_toml(name)),
        ("src/lib.rs", lib_rs(name)),
        (".cargo/config.toml", cargo_config(patches)),
        (".gitignore", "/target\n".to_string()),
    ];
    for (relative, contents) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| format!("{}: {error}", parent.display()))?;
        }
        std::fs::write(&path, contents).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    Ok(())
}

/// The crate name `tau new` uses for `dir` when none is given.
pub(crate) fn name_for(dir: &Path) -> Option<String> {
    dir.file_name().map(|name| name.to_string_lossy().replace(' ', "-"))
}

fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid crate name (letters, digits, `-` and `_`, not starting with a digit); choose one with --name"
        ))
    }
}

fn cargo_toml(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[lib]
# cdylib: the library `tau` loads; rlib: lets `cargo test` and other crates use it.
crate-type = ["cdylib", "rlib"]

[dependencies]
tau-sdk = "0.1"
"#
    )
}

fn cargo_config(patches: &[Patch]) -> String {
    let mut text = String::from(
        "# Where tau's crates are (the SDK, and the tokio shim every tokio\n\
         # dependency resolves to), so that plain `cargo build` and `cargo test`\n\
         # work here; `tau build` injects the same patches itself.\n",
    );
    text.push_str(&tau_host::patch_table(patches));
    text
}

fn lib_rs(name: &str) -> String {
    let type_name: String = name
        .split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!(
        r#"//! A tau plugin. Try it:
//!
//! ```sh
//! tau call . hello world
//! echo 'double_later 21' | tau run .
//! ```

use std::sync::atomic::{{AtomicU64, Ordering}};
use std::time::Duration;

/// The plugin's state lives as long as the plugin is loaded.
#[derive(Default)]
pub struct {type_name} {{
    calls: AtomicU64,
}}

#[tau::plugin]
impl {type_name} {{
    /// Greets `name`.
    #[tau::export]
    pub fn hello(&self, name: String) -> String {{
        self.calls.fetch_add(1, Ordering::Relaxed);
        format!("hello, {{name}}")
    }}

    /// Doubles `x` after a short sleep on the shared runtime.
    #[tau::export]
    pub async fn double_later(&self, x: i64) -> i64 {{
        tau::time::sleep(Duration::from_millis(10)).await;
        x * 2
    }}
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn hello_greets() {{
        assert_eq!({type_name}::default().hello("tau".into()), "hello, tau");
    }}

    #[tau::test]
    async fn double_later_doubles() {{
        assert_eq!({type_name}::default().double_later(21).await, 42);
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("my-plugin_2").is_ok());
        assert!(check_name("2fast").unwrap_err().contains("not a valid crate name"));
        assert!(check_name("a.b").is_err());
        assert_eq!(name_for(Path::new("/tmp/my plugin")).unwrap(), "my-plugin");
    }

    #[test]
    fn refuses_a_non_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let error = create(dir.path(), "p", &[]).unwrap_err();
        assert!(error.ends_with("already exists and is not empty; give a new directory"), "{error}");
    }

    #[test]
    fn writes_a_crate() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("my-plugin");
        let patch = Patch { name: "tau-sdk".into(), path: "/src/tau-sdk".into() };
        create(&target, "my-plugin", &[patch]).unwrap();
        let lib = std::fs::read_to_string(target.join("src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct MyPlugin {"), "{lib}");
        let config = std::fs::read_to_string(target.join(".cargo/config.toml")).unwrap();
        assert!(config.ends_with("tau-sdk = { path = \"/src/tau-sdk\" }\n"), "{config}");
        let manifest = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-plugin\"") && manifest.contains("tau-sdk = \"0.1\""));
    }
}
