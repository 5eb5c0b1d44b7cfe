//! End-to-end: the plugin build cache. Each test copies
//! `plugins/cache-test-plugin` to a temporary directory, edits the copy and
//! builds it into the tests' shared cache, so every copy has the same crate
//! name in a different place (the cache must keep them apart).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use tau_host::build::Stale;
use tau_host::{Builder, Built};

use common::{builder, cache_dir, host, plugin_dir};

/// A copy of the cache-test plugin under `<temp>/<place>`.
struct Copy {
    _temp: tempfile::TempDir,
    dir: PathBuf,
}

impl Copy {
    fn new(place: &str) -> Copy {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().canonicalize().unwrap().join(place);
        let from = plugin_dir("cache-test-plugin");
        for file in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "src/extra.rs"] {
            std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
            std::fs::copy(from.join(file), dir.join(file)).unwrap();
        }
        Copy { _temp: temp, dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Rewrites a file, dated 20 ms ago: newer than `built` (and than what
    /// cargo compiled for it, which took far longer than that), and older
    /// than the next build's start even by the file system's coarse clock,
    /// so that the build after the next can be asserted to skip cargo.
    fn edit(&self, name: &str, text: &str, built: &Built) {
        std::fs::write(self.file(name), text).unwrap();
        let time = SystemTime::now() - Duration::from_millis(20);
        let library_time = std::fs::metadata(&built.library).unwrap().modified().unwrap();
        assert!(time > library_time, "the edit comes after the build");
        set_time(&self.file(name), time);
    }

    /// Makes `answer` return `value`.
    fn set_answer(&self, value: i64, built: &Built) {
        let source = std::fs::read_to_string(self.file("src/lib.rs")).unwrap();
        let start = source.find("-> i64 {").unwrap() + "-> i64 {".len();
        let end = start + source[start..].find('}').unwrap();
        let edited = format!("{}\n        {value}\n    {}", &source[..start], &source[end..]);
        self.edit("src/lib.rs", &edited, built);
    }
}

fn set_time(path: &Path, time: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn build(builder: &Builder, copy: &Copy) -> Built {
    builder.build(&copy.dir).unwrap_or_else(|error| panic!("building {}: {error}", copy.dir.display()))
}

/// Loads `library`, calls `export` (no arguments), unloads.
fn call<R: Send + 'static>(library: &Path, export: &str) -> R {
    let mut host = host();
    let id = host.load(library).unwrap();
    let result = host.plugin(id).unwrap().call::<R, _>(export, ()).unwrap();
    host.unload(id).unwrap();
    result
}

#[test]
fn the_second_build_skips_cargo() {
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    assert!(first.ran_cargo);
    assert_eq!(builder().check_up_to_date(&copy.dir), Ok(first.library.clone()));
    let second = build(&builder(), &copy);
    assert_eq!((&second.library, second.ran_cargo), (&first.library, false));
    // The library lives in the environment's directory, in the plugin's entry.
    let environment = builder().environment_dir().unwrap();
    let entry = first.library.parent().unwrap().parent().unwrap();
    assert_eq!(entry.parent().unwrap(), environment);
    assert!(
        entry.file_name().unwrap().to_str().unwrap().starts_with("cache-test-plugin."),
        "{}",
        entry.display()
    );
    assert_eq!(call::<i64>(&second.library, "answer"), 1);
}

#[test]
fn an_edited_source_rebuilds_and_the_new_code_loads() {
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    // Loaded and unloaded in this process: its mapping stays (RTLD_NODELETE).
    assert_eq!(call::<i64>(&first.library, "answer"), 1);

    copy.set_answer(2, &first);
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::Newer(copy.file("src/lib.rs"))));
    let second = build(&builder(), &copy);
    assert!(second.ran_cargo);
    assert_eq!(second.library, first.library, "rebuilt in place");
    assert_eq!(call::<i64>(&second.library, "answer"), 2, "the new library, not the old mapping");
    assert!(!build(&builder(), &copy).ran_cargo, "up to date again");

    // A touch without a change: cargo decides (and finds nothing to do).
    set_time(&copy.file("src/extra.rs"), SystemTime::now());
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::Newer(copy.file("src/extra.rs"))));
    assert!(build(&builder(), &copy).ran_cargo);
}

#[test]
fn editing_the_manifest_or_the_lock_file_rebuilds() {
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    let manifest = std::fs::read_to_string(copy.file("Cargo.toml")).unwrap();
    let manifest = manifest.replace("publish = false", "publish = false\ndescription = \"edited\"");
    copy.edit("Cargo.toml", &manifest, &first);
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::Newer(copy.file("Cargo.toml"))));
    let second = build(&builder(), &copy);
    assert!(second.ran_cargo);
    assert!(!build(&builder(), &copy).ran_cargo);

    let lock = std::fs::read_to_string(copy.file("Cargo.lock")).unwrap();
    copy.edit("Cargo.lock", &format!("{lock}\n"), &second);
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::Newer(copy.file("Cargo.lock"))));
    assert!(build(&builder(), &copy).ran_cargo);
    assert!(!build(&builder(), &copy).ran_cargo);
}

#[test]
fn a_deleted_source_file_rebuilds_without_error() {
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    assert_eq!(call::<String>(&first.library, "extra"), "extra");

    std::fs::remove_file(copy.file("src/extra.rs")).unwrap();
    let source = std::fs::read_to_string(copy.file("src/lib.rs")).unwrap();
    let source = source.replace("mod extra;\n", "").replace("extra::word()", "\"inline\"");
    copy.edit("src/lib.rs", &source, &first);
    // The dep file's first entry is lib.rs (newer); the check stops there or
    // at the missing file: either way not up to date.
    let stale = builder().check_up_to_date(&copy.dir).unwrap_err();
    assert!(
        [Stale::Newer(copy.file("src/lib.rs")), Stale::Missing(copy.file("src/extra.rs"))].contains(&stale),
        "{stale:?}"
    );
    let second = build(&builder(), &copy);
    assert!(second.ran_cargo);
    assert_eq!(call::<String>(&second.library, "extra"), "inline");
    assert!(!build(&builder(), &copy).ran_cargo, "the dep file no longer lists the deleted file");
}

#[test]
fn only_the_deleted_file_makes_it_stale() {
    let copy = Copy::new("plugin");
    build(&builder(), &copy);
    std::fs::remove_file(copy.file("src/extra.rs")).unwrap();
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::Missing(copy.file("src/extra.rs"))));
    // cargo then reports the real problem; no stale library is handed out.
    let error = builder().build(&copy.dir).unwrap_err().to_string();
    assert!(error.contains("cargo exited with"), "{error}");
}

#[test]
fn a_time_in_the_future_goes_to_cargo() {
    let copy = Copy::new("plugin");
    build(&builder(), &copy);
    set_time(&copy.file("src/extra.rs"), SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(builder().check_up_to_date(&copy.dir), Err(Stale::InFuture(copy.file("src/extra.rs"))));
    assert!(build(&builder(), &copy).ran_cargo);
    assert!(build(&builder(), &copy).ran_cargo, "still in the future: cargo again");
}

#[test]
fn a_path_with_spaces_builds_loads_and_skips() {
    let copy = Copy::new("dir with spaces/my plugin");
    let first = build(&builder(), &copy);
    assert_eq!(call::<i64>(&first.library, "answer"), 1);
    // The dep file escapes the spaces; the check reads it back.
    let dep_file = std::fs::read_to_string(first.library.with_extension("d")).unwrap();
    assert!(dep_file.contains("dir\\ with\\ spaces/my\\ plugin/src/lib.rs"), "{dep_file}");
    assert_eq!(builder().check_up_to_date(&copy.dir), Ok(first.library.clone()));
    assert!(!build(&builder(), &copy).ran_cargo);
    copy.set_answer(3, &first);
    assert_eq!(call::<i64>(&build(&builder(), &copy).library, "answer"), 3);
}

#[test]
fn two_plugins_with_one_name_keep_their_own_libraries() {
    let (one, two) = (Copy::new("one"), Copy::new("two"));
    let first = build(&builder(), &one);
    let built = build(&builder(), &two);
    two.set_answer(2, &built);
    let second = build(&builder(), &two);
    assert_ne!(first.library, second.library);
    // cargo's fingerprint of `one` is fresh, but target/ holds `two`'s
    // library now: a forced build of `one` must still give `one`'s.
    let again = build(&builder().force(true), &one);
    assert!(again.ran_cargo);
    assert_eq!(call::<i64>(&again.library, "answer"), 1);
    assert_eq!(call::<i64>(&second.library, "answer"), 2);
}

#[test]
fn a_changed_patched_crate_gives_a_new_environment() {
    let temp = tempfile::tempdir().unwrap();
    let shim = temp.path().join("shim");
    std::fs::create_dir_all(shim.join("src")).unwrap();
    std::fs::write(shim.join("Cargo.toml"), "[package]\nname = \"shim\"\nversion = \"1.0.0\"\n").unwrap();
    std::fs::write(shim.join("src/lib.rs"), "pub fn shim() {}\n").unwrap();
    let patches = temp.path().join("patches.list");
    let sdk = common::workspace().join("tau-sdk");
    std::fs::write(&patches, format!("tau-sdk {}\nshim shim\n", sdk.display())).unwrap();
    let with_shim = || builder().patches_file(&patches);

    let default = builder().environment_dir().unwrap();
    let first = with_shim().environment_dir().unwrap();
    assert_ne!(first, default, "another patch list");
    assert_eq!(with_shim().environment_dir().unwrap(), first, "nothing changed");
    std::fs::write(shim.join("src/lib.rs"), "pub fn shim() { /* changed */ }\n").unwrap();
    let second = with_shim().environment_dir().unwrap();
    assert_ne!(second, first, "the patched crate changed");
    assert_eq!(second.parent(), Some(cache_dir().as_path()));
    let description = with_shim().environment().unwrap().description().to_string();
    assert!(
        description.contains(&format!("{} sha256 ", shim.canonicalize().unwrap().display())),
        "{description}"
    );
}

fn tau(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tau"));
    command.args(args).env("TAU_CACHE_DIR", cache_dir());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tau_build_says_when_it_skips_and_force_runs_cargo() {
    let copy = Copy::new("plugin");
    let dir = copy.dir.to_str().unwrap();
    let first = tau(&["build", dir]).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(text(&first.stderr).contains("Finished"), "{}", text(&first.stderr));
    let library = text(&first.stdout);
    assert!(library.ends_with("libcache_test_plugin.so\n"), "{library}");

    let second = tau(&["build", dir]).output().unwrap();
    assert_eq!(
        (second.status.code(), text(&second.stdout), text(&second.stderr)),
        (Some(0), library.clone(), format!("up-to-date (skipped): {dir}\n"))
    );
    let quiet = tau(&["build", "-q", dir]).output().unwrap();
    assert_eq!((text(&quiet.stdout), text(&quiet.stderr)), (library.clone(), String::new()));

    let forced = tau(&["build", "--force", dir]).output().unwrap();
    assert_eq!(forced.status.code(), Some(0));
    assert!(!text(&forced.stderr).contains("up-to-date"), "{}", text(&forced.stderr));
    assert!(text(&forced.stderr).contains("Finished"), "{}", text(&forced.stderr));
    assert_eq!(text(&forced.stdout), library);
}

#[test]
fn concurrent_builds_of_one_plugin_both_succeed() {
    let copy = Copy::new("plugin");
    let dir = copy.dir.to_str().unwrap();
    let both = |args: &[&str]| -> [Output; 2] {
        let children = [tau(args).output_spawned(), tau(args).output_spawned()];
        children.map(|child| child.wait_with_output().unwrap())
    };
    for args in [&["build", "-q", dir][..], &["build", "-q", "--force", dir][..]] {
        let [one, two] = both(args);
        assert_eq!(one.status.code(), Some(0), "{args:?}: {}", text(&one.stderr));
        assert_eq!(two.status.code(), Some(0), "{args:?}: {}", text(&two.stderr));
        assert_eq!(text(&one.stdout), text(&two.stdout));
        let library = PathBuf::from(text(&one.stdout).trim_end());
        assert_eq!(call::<i64>(&library, "answer"), 1);
    }
}

trait SpawnPiped {
    fn output_spawned(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_spawned(&mut self) -> std::process::Child {
        use std::process::Stdio;
        self.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }
}

#[test]
fn cache_ls_and_gc_do_what_they_say() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    set_mode(root, 0o700);
    let in_root = |args: &[&str]| -> (String, String, Option<i32>) {
        let output = tau(args).env("TAU_CACHE_DIR", root).output().unwrap();
        (text(&output.stdout), text(&output.stderr), output.status.code())
    };
    let current = Builder::new().cache_dir(root).environment().unwrap().hash().to_string();
    let make_environment = |hash: &str| {
        std::fs::create_dir_all(root.join(hash).join("target/debug")).unwrap();
        std::fs::write(root.join(hash).join("environment"), "rustc -vV:\n  rustc 1.0.0 (old)\n").unwrap();
        std::fs::write(root.join(hash).join("target/debug/lib.so"), vec![0u8; 2048]).unwrap();
    };
    make_environment(&current);
    make_environment("0123456789abcdef");
    std::fs::create_dir_all(root.join("target")).unwrap();
    std::fs::write(root.join("target/CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55").unwrap();
    // Not tau's: left alone by gc, even with --all.
    std::fs::write(root.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55").unwrap();
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(root.join("fedcba9876543210")).unwrap();

    let (listing, _, code) = in_root(&["cache", "ls"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], format!("cache: {}", root.display()));
    assert!(lines[1].starts_with(&format!("* {current}  rustc 1.0.0 (old)  ")), "{listing}");
    assert!(lines[1].ends_with("(current)"), "{listing}");
    assert!(lines[3].starts_with("  0123456789abcdef  rustc 1.0.0 (old)  "), "{listing}");
    assert!(listing.contains("(the layout before environments: `tau cache gc` removes it)"), "{listing}");

    let (removed, _, code) = in_root(&["cache", "gc"]);
    assert_eq!(code, Some(0));
    assert_eq!(removed_paths(&removed), [root.join("0123456789abcdef"), root.join("target")], "{removed}");
    assert!(removed.ends_with(&format!("\nkept the current environment {current}\n")), "{removed}");
    assert!(root.join(&current).is_dir() && root.join("notes.txt").is_file());
    assert!(!root.join("0123456789abcdef").exists() && !root.join("target").exists());
    assert_eq!(
        in_root(&["cache", "gc"]).0,
        format!("nothing to remove\nkept the current environment {current}\n")
    );

    let (removed, _, code) = in_root(&["cache", "gc", "--all"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        removed_paths(&removed),
        [root.join(&current), root.join("rustc-info.json"), root.join("CACHEDIR.TAG")],
        "{removed}"
    );
    let mut left: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["fedcba9876543210", "notes.txt"]);
    assert_eq!(in_root(&["cache", "ls"]).0, format!("cache: {}\n  (empty)\n", root.display()));
}

/// The paths of gc's `removed <path> (<size>)` lines.
fn removed_paths(output: &str) -> Vec<PathBuf> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("removed "))
        .map(|line| PathBuf::from(&line[..line.rfind(" (").unwrap()]))
        .collect()
}

#[test]
fn cache_ls_lists_built_plugins() {
    let copy = Copy::new("listed");
    build(&builder(), &copy);
    let output = tau(&["cache", "ls"]).output().unwrap();
    let listing = text(&output.stdout);
    let hash = builder().environment().unwrap().hash().to_string();
    assert!(listing.contains(&format!("* {hash}  rustc ")), "{listing}");
    let line = listing
        .lines()
        .find(|line| line.ends_with(copy.dir.to_str().unwrap()))
        .expect("the plugin is listed");
    assert!(line.trim_start().starts_with("cache-test-plugin.") && line.contains("  debug  "), "{line}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives `path` to uid 65534 (`nobody`); the tests run as root, which may.
fn give_away(path: &Path) {
    std::os::unix::fs::lchown(path, Some(65534), None)
        .unwrap_or_else(|error| panic!("chown {} (this test needs root): {error}", path.display()));
}

#[test]
fn a_cache_others_could_write_is_refused() {
    let copy = Copy::new("plugin");
    let temp = tempfile::tempdir().unwrap();
    let temp = temp.path().canonicalize().unwrap();
    set_mode(&temp, 0o700);
    let refused = |root: &Path| -> String {
        let builder = builder().cache_dir(root);
        let error = builder.environment().expect_err("the environment is not computed there").to_string();
        let build_error = builder.build(&copy.dir).expect_err("nothing is built there").to_string();
        assert_eq!(build_error, error);
        assert!(!root.join("rustc-info.json").exists(), "nothing was written in {}", root.display());
        error
    };

    let root = temp.join("open");
    std::fs::create_dir(&root).unwrap();
    set_mode(&root, 0o777);
    let error = refused(&root);
    assert!(
        error.contains(&format!("{}: group or others may write it (mode 777)", root.display())),
        "{error}"
    );
    assert!(error.contains("TAU_CACHE_DIR"), "{error}");

    set_mode(&root, 0o755);
    give_away(&root);
    let error = refused(&root);
    assert!(error.contains(&format!("{}: it belongs to uid 65534", root.display())), "{error}");

    // An ancestor others may write (not sticky, unlike /tmp) is refused too,
    // and so is one that belongs to another user.
    let parent = temp.join("shared");
    std::fs::create_dir_all(parent.join("cache")).unwrap();
    set_mode(&parent, 0o777);
    let error = refused(&parent.join("cache"));
    assert!(
        error.contains(&format!(
            "{}: group or others may write it (mode 777) and it is not sticky",
            parent.display()
        )),
        "{error}"
    );
    set_mode(&parent, 0o1777);
    assert!(builder().cache_dir(parent.join("sticky")).environment().is_ok(), "sticky, like /tmp");
    set_mode(&parent, 0o755);
    give_away(&parent);
    let error = refused(&parent.join("cache"));
    assert!(error.contains(&format!("{}: it belongs to uid 65534", parent.display())), "{error}");
}

#[test]
fn a_directory_in_the_cache_others_could_write_is_refused() {
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    let profile = first.library.parent().unwrap().to_path_buf();
    let entry = profile.parent().unwrap().to_path_buf();
    set_mode(&entry, 0o777);
    let error = builder().build(&copy.dir).expect_err("refused").to_string();
    assert!(
        error.contains(&format!("{}: group or others may write it (mode 777)", entry.display())),
        "{error}"
    );
    set_mode(&entry, 0o755);
    give_away(&profile);
    let error = builder().build(&copy.dir).expect_err("refused").to_string();
    assert!(error.contains(&format!("{}: it belongs to uid 65534", profile.display())), "{error}");
    std::os::unix::fs::lchown(&profile, Some(0), None).unwrap();
    assert!(!build(&builder(), &copy).ran_cargo, "trusted again");
}

#[test]
fn a_cached_file_others_could_write_is_not_trusted() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let copy = Copy::new("plugin");
    let first = build(&builder(), &copy);
    let profile = first.library.parent().unwrap().to_path_buf();
    let files = [first.library.clone(), profile.join("stamp.json"), first.library.with_extension("d")];
    for file in &files {
        set_mode(file, 0o666);
        assert_eq!(
            builder().check_up_to_date(&copy.dir),
            Err(Stale::Untrusted {
                path: file.clone(),
                reason: "group or others may write it (mode 666)".into()
            })
        );
        let again = build(&builder(), &copy);
        assert!(again.ran_cargo, "{}: rebuilt", file.display());
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o022, 0, "{}: replaced (mode {mode:o})", file.display());
    }
    // A library planted by another user is never loaded: cargo replaces it.
    for file in &files {
        give_away(file);
        let stale = builder().check_up_to_date(&copy.dir);
        assert!(
            matches!(&stale, Err(Stale::Untrusted { path, reason }) if path == file && reason.starts_with("it belongs to uid 65534")),
            "{stale:?}"
        );
        let again = build(&builder(), &copy);
        assert!(again.ran_cargo, "{}: rebuilt", file.display());
        assert_eq!(std::fs::metadata(file).unwrap().uid(), 0, "{}: replaced", file.display());
    }
    assert_eq!(call::<i64>(&first.library, "answer"), 1);
    assert!(!build(&builder(), &copy).ran_cargo);
}

#[test]
fn without_home_the_cache_is_in_the_users_home_not_in_tmp() {
    // SAFETY: getpwuid's result is read at once, before any other call
    // that could reuse its static buffer (this test makes none).
    let home = unsafe {
        let entry = libc::getpwuid(libc::geteuid());
        assert!(!entry.is_null(), "this user has a password database entry");
        std::ffi::CStr::from_ptr((*entry).pw_dir).to_string_lossy().into_owned()
    };
    let output = tau(&["cache", "ls"]).env_remove("TAU_CACHE_DIR").env_remove("HOME").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let first = text(&output.stdout).lines().next().unwrap_or_default().to_string();
    assert_eq!(first, format!("cache: {}", Path::new(&home).join(".tau/buildcache").display()));
}

/// The cache-test plugin with exports that return the value of
/// `TAU_TEST_X` when it was compiled (`option_env!`), of `TAU_TEST_Y`
/// when its build script ran and of `TAU_TEST_Z` when its dependency's
/// did (`rerun-if-env-changed`).
fn environment_plugin() -> Copy {
    let copy = Copy::new("environment");
    let script = |variable: &str, set: &str| {
        format!(
            "fn main() {{
    println!(\"cargo:rerun-if-env-changed={variable}\");
    let value = std::env::var(\"{variable}\").unwrap_or_else(|_| \"unset\".to_string());
    println!(\"cargo:rustc-env={set}={{value}}\");
}}
"
        )
    };
    std::fs::create_dir_all(copy.file("dependency/src")).unwrap();
    std::fs::write(
        copy.file("dependency/Cargo.toml"),
        "[package]\nname = \"dependency\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(copy.file("dependency/build.rs"), script("TAU_TEST_Z", "TAU_BUILT_Z")).unwrap();
    std::fs::write(copy.file("dependency/src/lib.rs"), "pub const Z: &str = env!(\"TAU_BUILT_Z\");\n")
        .unwrap();
    let manifest = std::fs::read_to_string(copy.file("Cargo.toml")).unwrap();
    let manifest =
        manifest.replace("[dependencies]\n", "[dependencies]\ndependency = { path = \"dependency\" }\n");
    std::fs::write(copy.file("Cargo.toml"), manifest).unwrap();
    let source = std::fs::read_to_string(copy.file("src/lib.rs")).unwrap();
    let exports = "    /// `TAU_TEST_X` at compile time.
    #[tau::export]
    pub fn x(&self) -> String {
        option_env!(\"TAU_TEST_X\").unwrap_or(\"unset\").to_string()
    }

    /// `TAU_TEST_Y` when the build script ran.
    #[tau::export]
    pub fn y(&self) -> String {
        env!(\"TAU_BUILT_Y\").to_string()
    }

    /// `TAU_TEST_Z` when the dependency's build script ran.
    #[tau::export]
    pub fn z(&self) -> String {
        dependency::Z.to_string()
    }

    /// A word from the second source file.";
    std::fs::write(
        copy.file("src/lib.rs"),
        source.replace("    /// A word from the second source file.", exports),
    )
    .unwrap();
    std::fs::write(copy.file("build.rs"), script("TAU_TEST_Y", "TAU_BUILT_Y")).unwrap();
    copy
}

#[test]
fn a_changed_environment_variable_rebuilds() {
    let copy = environment_plugin();
    let dir = copy.dir.to_str().unwrap();
    let call_with = |export: &str, x: Option<&str>, y: Option<&str>, z: Option<&str>| -> (String, String) {
        let mut command = tau(&["call", dir, export]);
        for (name, value) in [("TAU_TEST_X", x), ("TAU_TEST_Y", y), ("TAU_TEST_Z", z)] {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        (text(&output.stdout), text(&output.stderr))
    };
    let call = |export: &str, x: Option<&str>, y: Option<&str>| call_with(export, x, y, None);
    let skipped = format!("up-to-date (skipped): {dir}\n");
    assert_eq!(call("x", Some("a"), None).0, "a\n");
    // What the stamp records: the variables read from the environment
    // (dependencies' build scripts add theirs), not those cargo set.
    let stamp = std::fs::read_dir(builder().environment_dir().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().path().join("debug/stamp.json"))
        .find(|stamp| std::fs::read_to_string(stamp).is_ok_and(|text| text.contains(dir)))
        .expect("the plugin's stamp");
    let stamp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(stamp).unwrap()).unwrap();
    let recorded = |prefix: &str| -> Vec<serde_json::Value> {
        let all = stamp["env"].as_array().unwrap().iter();
        all.filter(|var| var["name"].as_str().unwrap().starts_with(prefix)).cloned().collect()
    };
    assert_eq!(
        recorded("TAU_"),
        [
            serde_json::json!({ "name": "TAU_TEST_X", "value": "a" }),
            serde_json::json!({ "name": "TAU_TEST_Y", "value": null }),
            serde_json::json!({ "name": "TAU_TEST_Z", "value": null }),
        ]
    );
    assert_eq!(recorded("CARGO_PKG_"), Vec::<serde_json::Value>::new(), "set by cargo");
    assert_eq!(call("x", Some("a"), None), ("a\n".to_string(), skipped.clone()), "unchanged: skipped");
    assert_eq!(call("x", Some("b"), None).0, "b\n", "option_env! sees the new value");
    assert_eq!(call("x", Some("b"), None).1, skipped);
    assert_eq!(call("x", None, None).0, "unset\n");
    assert_eq!(call("x", None, None).1, skipped);

    assert_eq!(call("y", None, Some("c")).0, "c\n", "the build script ran again");
    assert_eq!(call("y", None, Some("c")).1, skipped);
    assert_eq!(call("y", None, Some("d")).0, "d\n");
    assert_eq!(call("y", None, None).0, "unset\n");
    assert_eq!(call("y", None, None).1, skipped);

    assert_eq!(call_with("z", None, None, Some("e")).0, "e\n", "the dependency's build script ran again");
    assert_eq!(call_with("z", None, None, Some("e")).1, skipped);
    assert_eq!(call_with("z", None, None, Some("f")).0, "f\n");
    assert_eq!(call_with("z", None, None, None).0, "unset\n");
}
