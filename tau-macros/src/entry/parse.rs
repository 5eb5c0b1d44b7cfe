//! Parsing: the attribute's arguments and the annotated function.
//!
//! This module only recognizes syntax. Whether an argument is *accepted*
//! (tau has no `multi_thread` flavor, for example) is decided in
//! [`super::validate`].

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, LitBool, LitStr, Meta, Path, Token};

/// Which of the two attributes is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[tau::main]`
    Main,
    /// `#[tau::test]`
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[tau::main]",
            Kind::Test => "#[tau::test]",
        }
    }
}

/// One argument of the attribute, recognized but not yet judged.
pub(crate) struct Arg {
    /// The whole argument as written: the span for errors, and the text to
    /// quote back in messages.
    pub(crate) meta: Meta,
    pub(crate) value: ArgValue,
}

/// What an argument says.
pub(crate) enum ArgValue {
    /// `crate = "path"`: where the SDK is, for crates that rename it.
    Crate(Path),
    /// `flavor = "..."` (from tokio).
    Flavor(LitStr),
    /// `worker_threads = ...` (from tokio), whatever the value is.
    WorkerThreads,
    /// `start_paused = true|false` (from tokio).
    StartPaused(LitBool),
    /// A name this macro does not know.
    Unknown,
}

/// Parses the attribute's arguments, `name = value, ...`.
///
/// Malformed arguments are reported into `errors` and left out of the result,
/// so the remaining ones can still be checked.
pub(crate) fn parse_args(tokens: TokenStream, errors: &mut Vec<syn::Error>) -> Vec<Arg> {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(error);
            return Vec::new();
        }
    };
    metas
        .into_iter()
        .filter_map(|meta| match parse_arg(&meta) {
            Ok(value) => Some(Arg { meta, value }),
            Err(error) => {
                errors.push(error);
                None
            }
        })
        .collect()
}

fn parse_arg(meta: &Meta) -> syn::Result<ArgValue> {
    let path = meta.path();
    let (name, example) = if path.is_ident("crate") {
        ("crate", "crate = \"::tau\"")
    } else if path.is_ident("flavor") {
        ("flavor", "flavor = \"current_thread\"")
    } else if path.is_ident("start_paused") {
        ("start_paused", "start_paused = false")
    } else if path.is_ident("worker_threads") {
        // Rejected whatever its form, so there is no value to look at.
        return Ok(ArgValue::WorkerThreads);
    } else {
        return Ok(ArgValue::Unknown);
    };
    let Meta::NameValue(name_value) = meta else {
        return Err(syn::Error::new_spanned(meta, format!("`{name}` needs a value: `{example}`")));
    };
    let wrong_value = || {
        syn::Error::new_spanned(
            &name_value.value,
            format!("unexpected value for `{name}`; write `{example}`"),
        )
    };
    let Expr::Lit(ExprLit { lit, .. }) = &name_value.value else {
        return Err(wrong_value());
    };
    match (name, lit) {
        ("crate", Lit::Str(text)) => text.parse::<Path>().map(ArgValue::Crate).map_err(|_| {
            syn::Error::new_spanned(
                text,
                format!("`crate` must name a path, such as `{example}`, not {}", text.to_token_stream()),
            )
        }),
        ("flavor", Lit::Str(text)) => Ok(ArgValue::Flavor(text.clone())),
        ("start_paused", Lit::Bool(flag)) => Ok(ArgValue::StartPaused(flag.clone())),
        _ => Err(wrong_value()),
    }
}

/// Parses the item the attribute is on, which must be a function.
pub(crate) fn parse_fn(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    syn::parse2::<ItemFn>(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("{} can only be applied to an `async fn`: {error}", kind.attribute()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_ok(tokens: TokenStream) -> Vec<Arg> {
        let mut errors = Vec::new();
        let args = parse_args(tokens, &mut errors);
        assert!(errors.is_empty(), "unexpected errors: {errors:?}");
        args
    }

    fn parse_err(tokens: TokenStream) -> String {
        let mut errors = Vec::new();
        let args = parse_args(tokens, &mut errors);
        assert!(args.is_empty(), "the bad argument should be left out");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].to_string()
    }

    #[test]
    fn no_arguments() {
        assert!(parse_ok(quote!()).is_empty());
    }

    #[test]
    fn recognizes_each_argument() {
        let args = parse_ok(quote!(
            crate = "my::path",
            flavor = "current_thread",
            worker_threads = 4,
            start_paused = true,
            bogus = 1,
        ));
        assert_eq!(args.len(), 5);
        match &args[0].value {
            ArgValue::Crate(path) => {
                assert_eq!(path.to_token_stream().to_string(), "my :: path");
            }
            _ => panic!("expected `crate`"),
        }
        match &args[1].value {
            ArgValue::Flavor(flavor) => assert_eq!(flavor.value(), "current_thread"),
            _ => panic!("expected `flavor`"),
        }
        assert!(matches!(args[2].value, ArgValue::WorkerThreads));
        match &args[3].value {
            ArgValue::StartPaused(flag) => assert!(flag.value),
            _ => panic!("expected `start_paused`"),
        }
        assert!(matches!(args[4].value, ArgValue::Unknown));
        assert_eq!(args[4].meta.to_token_stream().to_string(), "bogus = 1");
    }

    #[test]
    fn crate_path_may_be_absolute() {
        let args = parse_ok(quote!(crate = "::renamed_tau"));
        match &args[0].value {
            ArgValue::Crate(path) => {
                assert_eq!(path.to_token_stream().to_string(), ":: renamed_tau")
            }
            _ => panic!("expected `crate`"),
        }
    }

    #[test]
    fn crate_needs_a_string() {
        let message = parse_err(quote!(crate = 5));
        assert_eq!(message, "unexpected value for `crate`; write `crate = \"::tau\"`");
    }

    #[test]
    fn crate_string_must_be_a_path() {
        let message = parse_err(quote!(crate = "not a path"));
        assert_eq!(message, "`crate` must name a path, such as `crate = \"::tau\"`, not \"not a path\"");
    }

    #[test]
    fn known_argument_needs_a_value() {
        let message = parse_err(quote!(flavor));
        assert_eq!(message, "`flavor` needs a value: `flavor = \"current_thread\"`");
    }

    #[test]
    fn start_paused_needs_a_bool() {
        let message = parse_err(quote!(start_paused = "yes"));
        assert_eq!(message, "unexpected value for `start_paused`; write `start_paused = false`");
    }

    #[test]
    fn malformed_arguments_are_a_syntax_error() {
        let message = parse_err(quote!(= 3));
        assert_eq!(message, "expected identifier");
    }

    #[test]
    fn item_must_be_a_fn() {
        let error = parse_fn(
            Kind::Test,
            quote!(
                struct NotAFunction;
            ),
        )
        .err()
        .unwrap();
        assert_eq!(error.to_string(), "#[tau::test] can only be applied to an `async fn`: expected `fn`");
    }

    #[test]
    fn parses_a_fn() {
        let func = parse_fn(
            Kind::Main,
            quote!(
                async fn main() {}
            ),
        )
        .unwrap();
        assert_eq!(func.sig.ident, "main");
        assert!(func.sig.asyncness.is_some());
    }
}
