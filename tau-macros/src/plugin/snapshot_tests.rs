//! Expansion snapshots of `#[tau::plugin]`: the generated code, rendered by
//! `prettyplease`, must equal the committed files in `tests/snapshots`.
//!
//! After a deliberate change to the expansion, rewrite them with
//! `UPDATE_SNAPSHOTS=1 cargo test -p tau-macros snapshot` and read the diff:
//! it is what `cargo expand` shows plugin authors.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::expand::expand;

/// Expands `#[tau::plugin(args)]` on `item` and renders it as a source file.
fn render(args: TokenStream, item: TokenStream) -> String {
    let tokens = expand(args, item);
    let file = syn::parse2::<syn::File>(tokens.clone())
        .unwrap_or_else(|error| panic!("the expansion is not a valid file: {error}\n{tokens}"));
    prettyplease::unparse(&file)
}

/// Compares `actual` with `tests/snapshots/{name}.rs`, or rewrites that file
/// when `UPDATE_SNAPSHOTS` is set.
fn assert_snapshot(name: &str, actual: &str) {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "snapshots", &format!("{name}.rs")].iter().collect();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read snapshot {}: {error}\nrun with UPDATE_SNAPSHOTS=1 to create it; the expansion is:\n{actual}",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let expected_lines: Vec<&str> = expected.lines().collect();
    let actual_lines: Vec<&str> = actual.lines().collect();
    let first_difference = expected_lines
        .iter()
        .zip(&actual_lines)
        .position(|(expected, actual)| expected != actual)
        .unwrap_or(expected_lines.len().min(actual_lines.len()));
    let line = |lines: &[&str]| lines.get(first_difference).copied().unwrap_or("<end of file>").to_string();
    panic!(
        "the expansion differs from {path}, first at line {number}:\n\
         - expected: {expected_line}\n\
         + actual:   {actual_line}\n\
         \n===== expected ({path}) =====\n{expected}\
         \n===== actual =====\n{actual}\
         \n=====\nif the change is intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff",
        path = path.display(),
        number = first_difference + 1,
        expected_line = line(&expected_lines),
        actual_line = line(&actual_lines),
    );
}

/// Sync and async exports, `Option`/`Result` types, both hooks and `fn new`.
#[test]
fn full_plugin() {
    let expansion = render(
        quote!(),
        quote! {
            impl Greeter {
                /// Builds a greeter that says "hello".
                pub fn new() -> Self {
                    Greeter { greeting: "hello".to_string(), calls: AtomicU64::new(0) }
                }

                /// Says hello to `name`.
                ///
                /// Counts the greetings.
                #[tau::export]
                pub fn greet(&self, name: String) -> String {
                    self.calls.fetch_add(1, Ordering::Relaxed);
                    format!("{}, {name}", self.greeting)
                }

                /// Doubles `x` after `delay_ms`.
                #[tau::export]
                pub async fn slow_double(&self, x: i64, delay_ms: u64) -> i64 {
                    tau::time::sleep(Duration::from_millis(delay_ms)).await;
                    x * 2
                }

                /// Finds the greeting for `key`, if any.
                #[tau::export]
                pub fn lookup(&self, key: Option<String>) -> Result<Vec<u8>, String> {
                    key.map(String::into_bytes).ok_or_else(|| "no key".to_string())
                }

                /// Forgets the count.
                #[tau::export]
                pub fn reset(&self) {
                    self.calls.store(0, Ordering::Relaxed);
                }

                fn on_load(&self) -> Result<(), String> {
                    Ok(())
                }

                fn on_unload(&self) {}

                fn helper(&self) -> u64 {
                    self.calls.load(Ordering::Relaxed)
                }
            }
        },
    );
    assert_snapshot("full_plugin", &expansion);
}

/// Built with `Default` (no `fn new`), no hooks, one export.
#[test]
fn default_constructed() {
    let expansion = render(
        quote!(),
        quote! {
            impl Adder {
                /// Adds two numbers.
                #[tau::export]
                pub fn add(&self, a: i64, b: i64) -> i64 {
                    a + b
                }
            }
        },
    );
    assert_snapshot("default_constructed", &expansion);
}
