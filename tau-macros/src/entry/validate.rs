//! Checks: which arguments tau accepts, and which functions it can run.
//!
//! Every check reports into a shared list instead of stopping at the first
//! problem, so one build shows all of them, each at its own span.

use quote::ToTokens;
use syn::{parse_quote, Attribute, ItemFn, Path};

use super::parse::{Arg, ArgValue, Kind};

/// What the arguments amount to once checked.
pub(crate) struct Config {
    /// Path to the SDK crate: `::tau` unless `crate = "..."` says otherwise.
    pub(crate) crate_path: Path,
}

/// Judges the parsed arguments, reporting the rejected ones into `errors`.
pub(crate) fn check_args(kind: Kind, args: &[Arg], errors: &mut Vec<syn::Error>) -> Config {
    let mut crate_path = None;
    for arg in args {
        let meta = &arg.meta;
        match &arg.value {
            ArgValue::Crate(path) => {
                if crate_path.is_some() {
                    errors.push(syn::Error::new_spanned(meta, "duplicate `crate` argument; give it once"));
                } else {
                    crate_path = Some(path.clone());
                }
            }
            ArgValue::Flavor(flavor) if flavor.value() == "current_thread" => {}
            ArgValue::Flavor(_) => errors.push(syn::Error::new_spanned(
                meta,
                format!(
                    "tau has one single-threaded runtime; remove `{}` \
                     (the only flavor is \"current_thread\", which can be left out)",
                    meta.to_token_stream()
                ),
            )),
            ArgValue::WorkerThreads => errors.push(syn::Error::new_spanned(
                meta,
                format!("tau has one single-threaded runtime; remove `{}`", meta.to_token_stream()),
            )),
            ArgValue::StartPaused(flag) if flag.value => errors.push(syn::Error::new_spanned(
                meta,
                "tau does not support paused time yet; remove `start_paused = true`",
            )),
            ArgValue::StartPaused(_) => {}
            ArgValue::Unknown => errors.push(syn::Error::new_spanned(
                meta,
                format!(
                    "unknown argument `{}` to `{}`; the accepted arguments are \
                     `crate = \"path::to::tau\"` and `flavor = \"current_thread\"`",
                    path_text(meta.path()),
                    kind.attribute()
                ),
            )),
        }
    }
    Config { crate_path: crate_path.unwrap_or_else(|| parse_quote!(::tau)) }
}

/// Checks that `func` can be turned into a synchronous fn that runs its body
/// on the runtime, reporting each problem into `errors`.
pub(crate) fn check_fn(kind: Kind, func: &ItemFn, errors: &mut Vec<syn::Error>) {
    let attribute = kind.attribute();
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!("`{attribute}` functions cannot be generic; remove the generic parameters"),
        ));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!("`{attribute}` functions cannot have a where clause; remove it"),
        ));
    }
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("`{attribute}` functions take no arguments; remove the parameters"),
        ));
    }
    if kind == Kind::Test {
        // Only attributes below `#[tau::test]` are visible here; rustc itself
        // rejects a `#[test]` above it, on an `async fn`.
        for attr in func.attrs.iter().filter(|attr| is_test_attribute(attr)) {
            errors.push(syn::Error::new_spanned(
                attr,
                format!(
                    "second #[{}] attribute: `#[tau::test]` already adds `#[test]`; remove it",
                    path_text(attr.path())
                ),
            ));
        }
    }
}

/// `#[test]`, or another test macro such as `#[tokio::test]`, which would
/// register the function a second time.
fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "test")
}

/// `a::b` as written, without the spaces `to_token_stream` would add.
fn path_text(path: &Path) -> String {
    let segments = path.segments.iter().map(|segment| segment.ident.to_string());
    let joined = segments.collect::<Vec<_>>().join("::");
    if path.leading_colon.is_some() {
        format!("::{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::parse::{parse_args, parse_fn};
    use proc_macro2::TokenStream;

    /// Parses from a string, so spans have line/column and source text.
    fn tokens(source: &str) -> TokenStream {
        source.parse().unwrap()
    }

    /// Each reported error as (message, source text it points at).
    fn fn_errors(kind: Kind, source: &str) -> Vec<(String, String)> {
        let func = parse_fn(kind, tokens(source)).unwrap();
        let mut errors = Vec::new();
        check_fn(kind, &func, &mut errors);
        described(errors)
    }

    fn arg_errors(kind: Kind, source: &str) -> (Config, Vec<(String, String)>) {
        let mut errors = Vec::new();
        let args = parse_args(tokens(source), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let config = check_args(kind, &args, &mut errors);
        (config, described(errors))
    }

    fn described(errors: Vec<syn::Error>) -> Vec<(String, String)> {
        errors
            .into_iter()
            .map(|error| {
                let text = error.span().source_text().unwrap_or_default();
                (error.to_string(), text)
            })
            .collect()
    }

    fn pair(message: &str, text: &str) -> (String, String) {
        (message.to_owned(), text.to_owned())
    }

    #[test]
    fn accepts_plain_async_fns() {
        assert!(fn_errors(Kind::Main, "async fn main() {}").is_empty());
        assert!(fn_errors(
            Kind::Test,
            "/// Docs.\n#[should_panic]\n#[ignore]\nasync fn checks() -> Result<(), String> { Ok(()) }"
        )
        .is_empty());
    }

    #[test]
    fn main_may_have_another_name() {
        assert!(fn_errors(Kind::Main, "pub async fn entry() -> u8 { 0 }").is_empty());
    }

    #[test]
    fn missing_async() {
        assert_eq!(
            fn_errors(Kind::Main, "fn main() {}"),
            [pair("the `async` keyword is missing from the function declaration", "fn")]
        );
    }

    #[test]
    fn parameters() {
        assert_eq!(
            fn_errors(Kind::Test, "async fn takes(x: u32, y: bool) {}"),
            [pair("`#[tau::test]` functions take no arguments; remove the parameters", "x: u32, y: bool")]
        );
    }

    #[test]
    fn generics_and_where_clause() {
        assert_eq!(
            fn_errors(Kind::Main, "async fn main<T>() where T: Clone {}"),
            [
                pair("`#[tau::main]` functions cannot be generic; remove the generic parameters", "<T>"),
                pair("`#[tau::main]` functions cannot have a where clause; remove it", "where T: Clone"),
            ]
        );
    }

    #[test]
    fn second_test_attribute() {
        assert_eq!(
            fn_errors(Kind::Test, "#[ignore]\n#[test]\nasync fn twice() {}"),
            [pair("second #[test] attribute: `#[tau::test]` already adds `#[test]`; remove it", "#[test]")]
        );
        assert_eq!(
            fn_errors(Kind::Test, "#[tokio::test]\nasync fn twice() {}"),
            [pair(
                "second #[tokio::test] attribute: `#[tau::test]` already adds `#[test]`; remove it",
                "#[tokio::test]"
            )]
        );
    }

    #[test]
    fn test_attribute_is_fine_on_main() {
        // Only `#[tau::test]` adds `#[test]` itself.
        assert!(fn_errors(Kind::Main, "#[test]\nasync fn main() {}").is_empty());
    }

    #[test]
    fn reports_every_problem() {
        let errors = fn_errors(Kind::Test, "#[test]\nfn all<T>(x: T) {}");
        let messages: Vec<&str> = errors.iter().map(|(message, _)| message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("the `async` keyword is missing"));
        assert!(messages[1].starts_with("`#[tau::test]` functions cannot be generic"));
        assert!(messages[2].starts_with("`#[tau::test]` functions take no arguments"));
        assert!(messages[3].starts_with("second #[test] attribute"));
    }

    #[test]
    fn default_crate_path() {
        let (config, errors) = arg_errors(Kind::Main, "");
        assert!(errors.is_empty());
        assert_eq!(config.crate_path.to_token_stream().to_string(), ":: tau");
    }

    #[test]
    fn accepts_what_tokio_code_may_carry_over() {
        let (config, errors) =
            arg_errors(Kind::Test, "flavor = \"current_thread\", start_paused = false, crate = \"my::path\"");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config.crate_path.to_token_stream().to_string(), "my :: path");
    }

    #[test]
    fn rejects_multi_thread() {
        let (_, errors) = arg_errors(Kind::Main, "flavor = \"multi_thread\"");
        assert_eq!(
            errors,
            [pair(
                "tau has one single-threaded runtime; remove `flavor = \"multi_thread\"` \
                 (the only flavor is \"current_thread\", which can be left out)",
                "flavor = \"multi_thread\""
            )]
        );
    }

    #[test]
    fn rejects_worker_threads() {
        let (_, errors) = arg_errors(Kind::Test, "worker_threads = 4");
        assert_eq!(
            errors,
            [pair("tau has one single-threaded runtime; remove `worker_threads = 4`", "worker_threads = 4")]
        );
    }

    #[test]
    fn rejects_start_paused() {
        let (_, errors) = arg_errors(Kind::Test, "start_paused = true");
        assert_eq!(
            errors,
            [pair(
                "tau does not support paused time yet; remove `start_paused = true`",
                "start_paused = true"
            )]
        );
    }

    #[test]
    fn rejects_unknown_arguments() {
        let (_, errors) = arg_errors(Kind::Main, "flavor = \"current_thread\", threads = 2");
        assert_eq!(
            errors,
            [pair(
                "unknown argument `threads` to `#[tau::main]`; the accepted arguments are \
                 `crate = \"path::to::tau\"` and `flavor = \"current_thread\"`",
                "threads = 2"
            )]
        );
    }

    #[test]
    fn rejects_duplicate_crate() {
        let (config, errors) = arg_errors(Kind::Main, "crate = \"first\", crate = \"second\"");
        assert_eq!(errors, [pair("duplicate `crate` argument; give it once", "crate = \"second\"")]);
        assert_eq!(config.crate_path.to_token_stream().to_string(), "first");
    }
}
