//! The up-to-date check: whether a plugin's cached library still matches
//! its sources, decided from file times and the environment, without cargo.
//!
//! The library is up to date when its dep file parses, every file it lists
//! exists and is older than the library, and so are the plugin's
//! `Cargo.toml`, `Cargo.lock` and every cargo config or toolchain file that
//! could apply to it (those that did not exist at build time must still not
//! exist), and the environment variables the build read (see [`env_read`])
//! have the values they had. The library's time is when the build that made
//! it *started*, so a source edited while cargo ran counts as newer. Any
//! doubt (a missing or unreadable file, a time in the future, equal times, a
//! file someone else could have written) says "stale", and cargo decides:
//! never a stale library.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::cache::Entry;
use super::depfile::DepFile;
use crate::trust::Refused;

/// Why a plugin's cached library cannot be used without running cargo.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stale {
    /// Nothing was built for this directory in this environment and profile.
    NeverBuilt,
    /// `--force` was given.
    Forced,
    /// A cache file could not be read or parsed.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file the library was built from is gone.
    Missing(PathBuf),
    /// A file is not older than the library.
    Newer(PathBuf),
    /// A file's time is in the future (clock skew).
    InFuture(PathBuf),
    /// A file that did not exist at build time does now (a new
    /// `.cargo/config.toml`, `rust-toolchain.toml`, ...).
    Appeared(PathBuf),
    /// An environment variable the build read (`option_env!`, `env!`, a
    /// build script's `rerun-if-env-changed`) has another value now.
    EnvironmentVariable(String),
    /// A cache file or directory someone else could have changed (owned by
    /// another user, or writable by group or others): it is not used.
    Untrusted {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::NeverBuilt => write!(f, "not built yet in this environment"),
            Stale::Forced => write!(f, "--force"),
            Stale::Unreadable { path, reason } => write!(f, "{}: {reason}", path.display()),
            Stale::Missing(path) => write!(f, "{} is gone", path.display()),
            Stale::Newer(path) => write!(f, "{} changed", path.display()),
            Stale::InFuture(path) => write!(f, "{} has a time in the future", path.display()),
            Stale::Appeared(path) => write!(f, "{} appeared", path.display()),
            Stale::EnvironmentVariable(name) => write!(f, "environment variable {name} changed"),
            Stale::Untrusted { path, reason } => write!(f, "{}: {reason}: not trusted", path.display()),
        }
    }
}

/// What a build leaves beside the library: where it came from and which
/// files besides the dep file's decide whether it is up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The canonical source directory.
    pub source: PathBuf,
    /// The library's file name in the profile directory.
    pub library: String,
    /// The dep file's name in the profile directory.
    pub dep_file: String,
    /// Manifests, lock files, configs.
    pub watched: Vec<Watched>,
    /// The environment variables the build read, with their values then;
    /// `None`: unknown (rustc's dep file was not found), so never fresh.
    pub env: Option<Vec<EnvVar>>,
}

/// An environment variable a build read, and its value then (`None`: unset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

/// A file besides the dep file's that decides whether a build is up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Watched {
    pub path: PathBuf,
    /// Whether it existed when the build ran.
    pub exists: bool,
    /// For `Cargo.lock`, which cargo itself writes during the build: its
    /// time after the build, which must not change. Other files must be
    /// older than the library.
    pub modified: Option<u128>,
}

/// Why a stamp could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StampError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("no `{0}`")]
    Missing(&'static str),
    #[error("a malformed `watched` item")]
    MalformedWatched,
    #[error("a malformed `env` item")]
    MalformedEnv,
}

impl Stamp {
    pub fn read(path: &Path) -> Result<Stamp, StampError> {
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
        let text =
            |key: &'static str| value[key].as_str().map(str::to_string).ok_or(StampError::Missing(key));
        let watched = value["watched"]
            .as_array()
            .ok_or(StampError::Missing("watched"))?
            .iter()
            .map(|item| {
                Some(Watched {
                    path: PathBuf::from(item["path"].as_str()?),
                    exists: item["exists"].as_bool()?,
                    modified: item["modified"].as_str().and_then(|nanos| nanos.parse().ok()),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or(StampError::MalformedWatched)?;
        // A stamp from before `env` existed is read as unreadable: one
        // cargo run writes a new one.
        let env = match value.get("env").ok_or(StampError::Missing("env"))? {
            serde_json::Value::Null => None,
            items => Some(
                items
                    .as_array()
                    .ok_or(StampError::MalformedEnv)?
                    .iter()
                    .map(|item| {
                        let value = match &item["value"] {
                            serde_json::Value::Null => None,
                            value => Some(value.as_str()?.to_string()),
                        };
                        Some(EnvVar { name: item["name"].as_str()?.to_string(), value })
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or(StampError::MalformedEnv)?,
            ),
        };
        Ok(Stamp {
            source: text("source")?.into(),
            library: text("library")?,
            dep_file: text("dep_file")?,
            watched,
            env,
        })
    }

    pub fn to_json(&self) -> String {
        let watched: Vec<serde_json::Value> = self
            .watched
            .iter()
            .map(|watched| {
                let modified = watched.modified.map(|nanos| nanos.to_string());
                serde_json::json!({ "path": watched.path, "exists": watched.exists, "modified": modified })
            })
            .collect();
        let env = self.env.as_ref().map(|env| {
            env.iter()
                .map(|var| serde_json::json!({ "name": var.name, "value": var.value }))
                .collect::<Vec<_>>()
        });
        let value = serde_json::json!({
            "source": self.source,
            "library": self.library,
            "dep_file": self.dep_file,
            "watched": watched,
            "env": env,
        });
        serde_json::to_string_pretty(&value).expect("a JSON value serializes")
    }
}

/// The files besides the dep file's that decide whether a build of the
/// crate in `source` (canonical) is up to date, as they are now: its
/// manifest, and in it and every directory above it the lock file, cargo
/// configs and toolchain files, and the manifests above (a workspace it may
/// belong to).
pub(crate) fn watched_files(source: &Path) -> Vec<Watched> {
    let mut files = vec![source.join("Cargo.toml")];
    for (depth, dir) in source.ancestors().enumerate() {
        if depth > 0 {
            files.push(dir.join("Cargo.toml"));
        }
        for name in
            ["Cargo.lock", ".cargo/config.toml", ".cargo/config", "rust-toolchain", "rust-toolchain.toml"]
        {
            files.push(dir.join(name));
        }
    }
    files
        .into_iter()
        .map(|path| {
            let time = std::fs::metadata(&path).and_then(|metadata| metadata.modified()).ok();
            let modified = if path.ends_with("Cargo.lock") { time.map(nanos) } else { None };
            Watched { exists: time.is_some(), modified, path }
        })
        .collect()
}

/// The environment variables a build read from the environment cargo ran
/// in (`environment`), with their values there: those rustc recorded in the crate's dep file (`rustc_dep_file`, its text) but
/// for those cargo or the crate's build script (`own_script_output`) set,
/// which the manifests and sources decide; and those that any build script
/// of the build (`script_outputs`, the crate's and its dependencies') names
/// in `rerun-if-env-changed`. This is what cargo compares too. Sorted by
/// name, each once. (What rustc read compiling the dependencies is not
/// here: their dep files are not looked for.)
pub(crate) fn env_read(
    rustc_dep_file: &str,
    own_script_output: Option<&str>,
    script_outputs: &[String],
    environment: &std::collections::HashMap<std::ffi::OsString, std::ffi::OsString>,
) -> Vec<EnvVar> {
    let value_of = |name: &str| environment.get(std::ffi::OsStr::new(name));
    // `cargo:KEY=VALUE` or `cargo::KEY=VALUE` lines, as `KEY=VALUE`.
    let directives = |output: &str| -> Vec<String> {
        let lines = output.lines();
        lines
            .filter_map(|line| line.strip_prefix("cargo::").or_else(|| line.strip_prefix("cargo:")))
            .map(str::to_string)
            .collect()
    };
    let set_by_script: Vec<String> = directives(own_script_output.unwrap_or_default())
        .iter()
        .filter_map(|directive| Some(directive.strip_prefix("rustc-env=")?.split_once('=')?.0.to_string()))
        .collect();
    let rerun: Vec<String> = script_outputs
        .iter()
        .flat_map(|output| directives(output))
        .filter_map(|directive| directive.strip_prefix("rerun-if-env-changed=").map(str::to_string))
        .collect();
    let mut names: Vec<String> = super::depfile::env_dependencies(rustc_dep_file)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !set_by_cargo(name) && !set_by_script.contains(name))
        .collect();
    names.extend(rerun);
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            // Not Unicode: recorded as no value can be read (never fresh).
            let value = value_of(&name).map(|value| value.to_string_lossy().into_owned());
            EnvVar { name, value }
        })
        .collect()
}

/// Whether cargo sets `name` for every crate it compiles (from the manifest
/// and the target directory, whatever the environment says).
fn set_by_cargo(name: &str) -> bool {
    const SET: [&str; 9] = [
        "CARGO",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    SET.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// Whether the environment variables of `env` still have their values.
fn check_env(env: &[EnvVar]) -> Result<(), Stale> {
    for var in env {
        let now = match std::env::var(&var.name) {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Stale::EnvironmentVariable(var.name.clone()))
            }
        };
        if now != var.value {
            return Err(Stale::EnvironmentVariable(var.name.clone()));
        }
    }
    Ok(())
}

/// Nanoseconds since the Unix epoch (0 before it).
pub(crate) fn nanos(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_nanos())
}

/// The library of `entry` for `profile`, if it is up to date with the
/// sources in `source` (canonical). Takes the entry's lock shared.
pub(crate) fn check(entry: &Entry, profile: &str, source: &Path) -> Result<PathBuf, Stale> {
    let lock = entry.lock();
    // Held until the end: a builder replacing the library waits for us.
    let _lock = match super::lock::shared_if_exists(&lock) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Err(Stale::NeverBuilt),
        Err(error) => return Err(Stale::Unreadable { path: lock, reason: error.to_string() }),
    };
    check_locked(entry, profile, source)
}

/// [`check`] for a caller that holds the entry's lock.
pub(crate) fn check_locked(entry: &Entry, profile: &str, source: &Path) -> Result<PathBuf, Stale> {
    let unreadable = |path: &Path, reason: String| Stale::Unreadable { path: path.to_path_buf(), reason };
    let untrusted = |refused: Refused| Stale::Untrusted { path: refused.path, reason: refused.reason };
    // What is loaded and what decides it must be this user's alone, and so
    // must the directories from the environment's down (the caller checked
    // the cache root).
    let stamp_path = entry.stamp(profile);
    if let Some(environment_dir) = entry.dir.parent() {
        crate::trust::check_own_below(environment_dir, &stamp_path).map_err(untrusted)?;
    }
    let stamp = match Stamp::read(&stamp_path) {
        Ok(stamp) => stamp,
        Err(_) if !stamp_path.exists() => return Err(Stale::NeverBuilt),
        Err(reason) => return Err(unreadable(&stamp_path, reason.to_string())),
    };
    if stamp.source != source {
        return Err(unreadable(&stamp_path, format!("built from {}", stamp.source.display())));
    }
    let Some(env) = &stamp.env else {
        return Err(unreadable(&stamp_path, "the environment variables the build read are unknown".into()));
    };
    check_env(env)?;
    let dir = entry.profile_dir(profile);
    let library = dir.join(&stamp.library);
    let dep_path = dir.join(&stamp.dep_file);
    for file in [&library, &dep_path] {
        crate::trust::check_own(file).map_err(untrusted)?;
    }
    let now = SystemTime::now();
    let built = modified(&library)?;
    if built > now {
        return Err(Stale::InFuture(library));
    }
    let text =
        std::fs::read_to_string(&dep_path).map_err(|error| unreadable(&dep_path, error.to_string()))?;
    let dep_file = DepFile::parse(&text).map_err(|error| unreadable(&dep_path, error.to_string()))?;
    let older = |path: &Path| -> Result<(), Stale> {
        let time = modified(path)?;
        if time > now {
            Err(Stale::InFuture(path.to_path_buf()))
        } else if time >= built {
            Err(Stale::Newer(path.to_path_buf()))
        } else {
            Ok(())
        }
    };
    for prerequisite in dep_file.prerequisites() {
        older(&source.join(prerequisite))?;
    }
    for watched in &stamp.watched {
        let path = &watched.path;
        match (watched.exists, watched.modified) {
            (true, Some(recorded)) if nanos(modified(path)?) != recorded => {
                return Err(Stale::Newer(path.clone()))
            }
            (true, Some(_)) => {}
            (true, None) => older(path)?,
            (false, _) if path.exists() => return Err(Stale::Appeared(path.clone())),
            (false, _) => {}
        }
    }
    Ok(library)
}

fn modified(path: &Path) -> Result<SystemTime, Stale> {
    match std::fs::metadata(path).and_then(|metadata| metadata.modified()) {
        Ok(time) => Ok(time),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(Stale::Missing(path.to_path_buf())),
        Err(error) => Err(Stale::Unreadable { path: path.to_path_buf(), reason: error.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A fake built entry: a source dir with two files, a library built
    /// `age` after them, its dep file and stamp.
    struct Fixture {
        _dir: tempfile::TempDir,
        source: PathBuf,
        entry: Entry,
    }

    fn set_time(path: &Path, time: SystemTime) {
        std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("my plugin/src")).unwrap();
        let source = dir.path().join("my plugin").canonicalize().unwrap();
        let past = SystemTime::now() - Duration::from_secs(100);
        for file in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "src/a b.rs"] {
            std::fs::write(source.join(file), file).unwrap();
            set_time(&source.join(file), past);
        }
        let entry = Entry::new(&dir.path().join("env"), "my-plugin", &source);
        let profile = entry.profile_dir("debug");
        std::fs::create_dir_all(&profile).unwrap();
        std::fs::write(entry.lock(), "").unwrap();
        std::fs::write(profile.join("libp.so"), "library").unwrap();
        set_time(&profile.join("libp.so"), past + Duration::from_secs(50));
        let escaped = source.to_str().unwrap().replace(' ', "\\ ");
        std::fs::write(
            profile.join("libp.d"),
            format!("/t/libp.so: {escaped}/src/lib.rs \\\n {escaped}/src/a\\ b.rs\n"),
        )
        .unwrap();
        let stamp = Stamp {
            source: source.clone(),
            library: "libp.so".into(),
            dep_file: "libp.d".into(),
            watched: watched_files(&source),
            env: Some(vec![EnvVar { name: "PATH".into(), value: std::env::var("PATH").ok() }]),
        };
        std::fs::write(entry.stamp("debug"), stamp.to_json()).unwrap();
        // Only this user may write them, whatever the umask.
        let mode = |path: &Path, mode| {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap()
        };
        for dir in [entry.dir.parent().unwrap(), &entry.dir, &profile] {
            mode(dir, 0o755);
        }
        for file in ["libp.so", "libp.d", "stamp.json"] {
            mode(&profile.join(file), 0o644);
        }
        Fixture { _dir: dir, source, entry }
    }

    #[test]
    fn an_untouched_build_is_up_to_date() {
        let f = fixture();
        assert_eq!(check(&f.entry, "debug", &f.source), Ok(f.entry.profile_dir("debug").join("libp.so")));
        assert_eq!(check(&f.entry, "release", &f.source), Err(Stale::NeverBuilt));
    }

    #[test]
    fn a_newer_source_or_manifest_is_stale() {
        for file in ["src/a b.rs", "Cargo.toml", "Cargo.lock"] {
            let f = fixture();
            set_time(&f.source.join(file), SystemTime::now());
            assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::Newer(f.source.join(file))));
        }
        // The lock file only has to keep the time it had after the build.
        let f = fixture();
        let lock = f.source.join("Cargo.lock");
        set_time(&lock, SystemTime::now() - Duration::from_secs(1000));
        assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::Newer(lock)));
    }

    #[test]
    fn equal_times_are_doubt() {
        let f = fixture();
        let built =
            std::fs::metadata(f.entry.profile_dir("debug").join("libp.so")).unwrap().modified().unwrap();
        set_time(&f.source.join("src/lib.rs"), built);
        assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::Newer(f.source.join("src/lib.rs"))));
    }

    #[test]
    fn a_missing_source_is_stale() {
        let f = fixture();
        std::fs::remove_file(f.source.join("src/a b.rs")).unwrap();
        assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::Missing(f.source.join("src/a b.rs"))));
    }

    #[test]
    fn times_in_the_future_are_stale() {
        let f = fixture();
        let future = SystemTime::now() + Duration::from_secs(3600);
        set_time(&f.source.join("src/lib.rs"), future);
        assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::InFuture(f.source.join("src/lib.rs"))));
        let f = fixture();
        let library = f.entry.profile_dir("debug").join("libp.so");
        set_time(&library, future);
        assert_eq!(check(&f.entry, "debug", &f.source), Err(Stale::InFuture(library)));
    }

    #[test]
    fn a_new_config_file_is_stale() {
        let f = fixture();
        std::fs::create_dir(f.source.join(".cargo")).unwrap();
        std::fs::write(f.source.join(".cargo/config.toml"), "").unwrap();
        assert_eq!(
            check(&f.entry, "debug", &f.source),
            Err(Stale::Appeared(f.source.join(".cargo/config.toml")))
        );
    }

    #[test]
    fn broken_cache_files_are_stale() {
        let f = fixture();
        let dep = f.entry.profile_dir("debug").join("libp.d");
        std::fs::write(&dep, "no rule here\n").unwrap();
        let Err(Stale::Unreadable { path, reason }) = check(&f.entry, "debug", &f.source) else { panic!() };
        assert_eq!((path, reason.as_str()), (dep.clone(), "line 1: a rule without `:`"));
        std::fs::remove_file(&dep).unwrap();
        assert!(
            matches!(check(&f.entry, "debug", &f.source), Err(Stale::Unreadable { path, .. }) if path == dep)
        );

        let f = fixture();
        std::fs::write(f.entry.stamp("debug"), "{").unwrap();
        assert!(matches!(check(&f.entry, "debug", &f.source), Err(Stale::Unreadable { .. })));
        let f = fixture();
        std::fs::remove_file(f.entry.profile_dir("debug").join("libp.so")).unwrap();
        assert!(matches!(check(&f.entry, "debug", &f.source), Err(Stale::Missing(_))));
    }

    #[test]
    fn a_changed_or_unknown_environment_is_stale() {
        let f = fixture();
        let mut stamp = Stamp::read(&f.entry.stamp("debug")).unwrap();
        assert_eq!(stamp.env.as_ref().unwrap()[0].name, "PATH", "written and read back");
        stamp.env = Some(vec![EnvVar { name: "TAU_NEVER_SET_IN_TESTS".into(), value: Some("x".into()) }]);
        std::fs::write(f.entry.stamp("debug"), stamp.to_json()).unwrap();
        assert_eq!(
            check(&f.entry, "debug", &f.source),
            Err(Stale::EnvironmentVariable("TAU_NEVER_SET_IN_TESTS".into()))
        );
        stamp.env = Some(vec![EnvVar { name: "TAU_NEVER_SET_IN_TESTS".into(), value: None }]);
        std::fs::write(f.entry.stamp("debug"), stamp.to_json()).unwrap();
        assert!(check(&f.entry, "debug", &f.source).is_ok());
        stamp.env = None;
        std::fs::write(f.entry.stamp("debug"), stamp.to_json()).unwrap();
        assert!(matches!(check(&f.entry, "debug", &f.source), Err(Stale::Unreadable { .. })));
    }

    #[test]
    fn the_environment_read_is_what_came_from_the_environment() {
        use std::collections::HashMap;
        use std::ffi::OsString;
        let environment: HashMap<OsString, OsString> = [
            ("X", "a"),
            ("CARGO_PKG_NAME", "host"),
            ("CARGO_PKG_VERSION", "1.0.0"),
            ("Y", "b"),
            ("BUILT", "1"),
        ]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
        // Set by cargo (even to the value it has here) or by the build
        // script (even the same): not from the environment. FROM_CONFIG was
        // set by a cargo config's `[env]`: a value set here would win.
        let dep_file = "# env-dep:X=a\n# env-dep:CARGO_PKG_NAME=plugin\n# env-dep:CARGO_PKG_VERSION=1.0.0\n\
                        # env-dep:UNSET\n# env-dep:BUILT=1\n# env-dep:FROM_CONFIG=c\n";
        let output = "cargo:rustc-env=BUILT=1\ncargo:rerun-if-env-changed=Y\ncargo::rerun-if-env-changed=Z\n";
        let dependency =
            "cargo:rerun-if-env-changed=W\ncargo:rustc-env=X=set for the dependency\n".to_string();
        let read = env_read(dep_file, Some(output), &[output.to_string(), dependency], &environment);
        let var =
            |name: &str, value: Option<&str>| EnvVar { name: name.into(), value: value.map(Into::into) };
        assert_eq!(
            read,
            [
                var("FROM_CONFIG", None),
                var("UNSET", None),
                var("W", None),
                var("X", Some("a")),
                var("Y", Some("b")),
                var("Z", None)
            ]
        );
        // Without the script's output, BUILT looks as if it came from here.
        let without_script = env_read(dep_file, None, &[], &environment);
        assert_eq!(
            without_script,
            [var("BUILT", Some("1")), var("FROM_CONFIG", None), var("UNSET", None), var("X", Some("a"))]
        );
    }

    #[test]
    fn another_source_directory_is_not_ours() {
        let f = fixture();
        let other = f.source.parent().unwrap().to_path_buf();
        assert!(matches!(check(&f.entry, "debug", &other), Err(Stale::Unreadable { .. })));
    }
}
