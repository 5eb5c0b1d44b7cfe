//! Token generation: the synchronous fn that runs the async body.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{AttrStyle, ItemFn, Path, ReturnType};

use super::parse::{self, Kind};
use super::validate;

/// Expands `#[tau::main]` or `#[tau::test]` (`kind`) with arguments `args` on
/// `item`.
///
/// With errors, the output is the errors followed by the expansion without
/// the added `#[test]` (or, if `item` is not a fn, by `item` unchanged), so
/// the rest of the crate still sees the function and the errors stay the
/// ones reported here.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let args = parse::parse_args(args, &mut errors);
    let config = validate::check_args(kind, &args, &mut errors);
    let func = match parse::parse_fn(kind, item.clone()) {
        Ok(func) => func,
        Err(error) => {
            errors.push(error);
            let errors = errors.iter().map(syn::Error::to_compile_error);
            return quote! { #(#errors)* #item };
        }
    };
    validate::check_fn(kind, &func, &mut errors);
    let register_test = kind == Kind::Test && errors.is_empty();
    let function = generate(kind, &config.crate_path, func, register_test);
    let errors = errors.iter().map(syn::Error::to_compile_error);
    quote! { #(#errors)* #function }
}

/// `async fn name() -> R { body }` becomes
/// `fn name() -> R { path::__private0_1_0::run_main(async move { .. }) }`
/// (`run_test` for tests), keeping attributes and visibility.
fn generate(kind: Kind, crate_path: &Path, func: ItemFn, register_test: bool) -> TokenStream {
    let ItemFn { attrs, vis, mut sig, block } = func;
    sig.asyncness = None;
    let (outer, inner): (Vec<_>, Vec<_>) =
        attrs.into_iter().partition(|attr| matches!(attr.style, AttrStyle::Outer));
    let runner = match kind {
        Kind::Main => quote!(run_main),
        Kind::Test => quote!(run_test),
    };
    let test_attribute = register_test.then(|| quote!(#[::core::prelude::v1::test]));
    // Binding the body to a variable of the declared return type gives `?`
    // and `return` inside it (which leave the async block) a known type.
    // A body that always diverges (`return`, `panic!`) makes the variable
    // unreachable and the block a diverging sub-expression; neither is the
    // user's doing, so neither is warned about.
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, output) => quote!(#output),
    };
    let hidden = crate::hidden_module();
    quote! {
        #test_attribute
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #crate_path::#hidden::#runner(async move {
                #[allow(clippy::diverging_sub_expression)]
                let __tau_output: #output = #block;
                #[allow(unreachable_code)]
                __tau_output
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    /// Normalizes token text by parsing it as a file, so both sides print
    /// the same way.
    fn normalized(tokens: TokenStream) -> String {
        syn::parse2::<syn::File>(tokens).expect("expansion is a valid file").to_token_stream().to_string()
    }

    fn assert_expands(kind: Kind, args: TokenStream, item: TokenStream, expected: TokenStream) {
        assert_eq!(normalized(expand(kind, args, item)), normalized(expected));
    }

    #[test]
    fn simple_main() {
        assert_expands(
            Kind::Main,
            quote!(),
            quote! {
                async fn main() {
                    work().await;
                }
            },
            quote! {
                fn main() {
                    ::tau::__private0_1_0::run_main(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: () = {
                            work().await;
                        };
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn main_keeps_attributes_visibility_and_return_type() {
        assert_expands(
            Kind::Main,
            quote!(flavor = "current_thread"),
            quote! {
                /// Entry point.
                #[allow(unused)]
                pub(crate) async fn main() -> Result<(), Error> {
                    if early() {
                        return Ok(());
                    }
                    step().await?;
                    Ok(())
                }
            },
            quote! {
                /// Entry point.
                #[allow(unused)]
                pub(crate) fn main() -> Result<(), Error> {
                    ::tau::__private0_1_0::run_main(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: Result<(), Error> = {
                            if early() {
                                return Ok(());
                            }
                            step().await?;
                            Ok(())
                        };
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn simple_test_keeps_attributes_in_order() {
        assert_expands(
            Kind::Test,
            quote!(),
            quote! {
                /// Checks things.
                #[cfg(unix)]
                #[should_panic(expected = "boom")]
                #[ignore]
                async fn checks() {
                    boom().await;
                }
            },
            quote! {
                #[::core::prelude::v1::test]
                /// Checks things.
                #[cfg(unix)]
                #[should_panic(expected = "boom")]
                #[ignore]
                fn checks() {
                    ::tau::__private0_1_0::run_test(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: () = {
                            boom().await;
                        };
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn crate_path_is_substituted() {
        assert_expands(
            Kind::Test,
            quote!(crate = "my::path"),
            quote!(
                async fn checks() -> std::io::Result<()> {
                    Ok(())
                }
            ),
            quote! {
                #[::core::prelude::v1::test]
                fn checks() -> std::io::Result<()> {
                    my::path::__private0_1_0::run_test(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: std::io::Result<()> = { Ok(()) };
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn inner_attributes_stay_inside_the_body() {
        assert_expands(
            Kind::Main,
            quote!(crate = "::renamed"),
            quote! {
                async fn main() {
                    #![allow(unused_variables)]
                    let unused = 1;
                }
            },
            quote! {
                fn main() {
                    #![allow(unused_variables)]
                    ::renamed::__private0_1_0::run_main(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: () = {
                            let unused = 1;
                        };
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn errors_come_with_the_function_but_no_test_registration() {
        assert_expands(
            Kind::Test,
            quote!(worker_threads = 2),
            quote!(
                fn checks() {}
            ),
            quote! {
                ::core::compile_error! {
                    "tau has one single-threaded runtime; remove `worker_threads = 2`"
                }
                ::core::compile_error! {
                    "the `async` keyword is missing from the function declaration"
                }
                fn checks() {
                    ::tau::__private0_1_0::run_test(async move {
                        #[allow(clippy::diverging_sub_expression)]
                        let __tau_output: () = {};
                        #[allow(unreachable_code)]
                        __tau_output
                    })
                }
            },
        );
    }

    #[test]
    fn not_a_fn_is_kept_next_to_the_error() {
        assert_expands(
            Kind::Main,
            quote!(),
            quote!(
                struct NotAFunction;
            ),
            quote! {
                ::core::compile_error! {
                    "#[tau::main] can only be applied to an `async fn`: expected `fn`"
                }
                struct NotAFunction;
            },
        );
    }
}
