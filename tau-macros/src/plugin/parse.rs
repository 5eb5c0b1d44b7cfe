//! Parsing `#[tau::plugin] impl Type { .. }`: which methods are exports,
//! which are hooks, whether there is a constructor. Only syntax is
//! recognized here; what is accepted is decided in [`super::validate`].

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, FnArg, ImplItem, ImplItemFn, ItemImpl, Pat, ReturnType, Type};

/// The annotated impl, with the `#[tau::export]` attributes taken off.
pub(crate) struct PluginImpl {
    /// The impl as it will be emitted (export attributes removed).
    pub(crate) item: ItemImpl,
    /// The methods marked `#[tau::export]`, in source order.
    pub(crate) exports: Vec<Export>,
    /// `fn new() -> Self`, if the impl has one.
    pub(crate) constructor: Option<Span>,
    /// `fn on_load(&self)`, if present.
    pub(crate) on_load: Option<Hook>,
    /// `fn on_unload(&self)`, if present.
    pub(crate) on_unload: Option<Hook>,
}

/// One exported method, as written.
pub(crate) struct Export {
    /// The method (its signature and attributes, export attribute removed).
    pub(crate) method: ImplItemFn,
    /// The first paragraph of its doc comment.
    pub(crate) doc: String,
    /// Its parameters after the receiver.
    pub(crate) params: Vec<Param>,
}

/// A parameter after the receiver.
pub(crate) struct Param {
    /// Its name, if the pattern is a plain identifier.
    pub(crate) name: Option<syn::Ident>,
    /// The pattern, for errors.
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
}

/// A life-cycle hook method.
pub(crate) struct Hook {
    pub(crate) method: ImplItemFn,
}

impl Hook {
    /// True if it returns something (which must then be a `Result`).
    pub(crate) fn returns_value(&self) -> bool {
        !matches!(self.method.sig.output, ReturnType::Default)
    }
}

/// Parses the impl the attribute is on.
pub(crate) fn parse_impl(item: TokenStream) -> syn::Result<PluginImpl> {
    let mut item: ItemImpl = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("#[tau::plugin] can only be applied to an `impl` block of the plugin type: {error}"),
        )
    })?;
    let mut exports = Vec::new();
    let mut constructor = None;
    let mut on_load = None;
    let mut on_unload = None;
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else { continue };
        let name = method.sig.ident.to_string();
        if take_export_attribute(&mut method.attrs) {
            exports.push(Export {
                doc: doc_summary(&method.attrs),
                params: params(method),
                method: method.clone(),
            });
        } else if name == "new" && method.sig.inputs.is_empty() {
            constructor = Some(method.sig.ident.span());
        } else if name == "on_load" {
            on_load = Some(Hook { method: method.clone() });
        } else if name == "on_unload" {
            on_unload = Some(Hook { method: method.clone() });
        }
    }
    Ok(PluginImpl { item, exports, constructor, on_load, on_unload })
}

/// True for `#[tau::export]`, `#[export]` or `#[<anything>::export]`.
pub(crate) fn is_export_attribute(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "export")
}

/// Removes the export attribute; true if there was one.
fn take_export_attribute(attrs: &mut Vec<Attribute>) -> bool {
    let before = attrs.len();
    attrs.retain(|attr| !is_export_attribute(attr));
    attrs.len() != before
}

fn params(method: &ImplItemFn) -> Vec<Param> {
    method
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Receiver(_) => None,
            FnArg::Typed(typed) => Some(Param {
                name: match &*typed.pat {
                    Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                        Some(ident.ident.clone())
                    }
                    _ => None,
                },
                pat: (*typed.pat).clone(),
                ty: (*typed.ty).clone(),
            }),
        })
        .collect()
}

/// The first paragraph of the `///` comments, joined into one line.
fn doc_summary(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
        let syn::Meta::NameValue(name_value) = &attr.meta else { continue };
        let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) = &name_value.value else {
            continue;
        };
        let line = text.value().trim().to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(line);
    }
    lines.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn finds_exports_hooks_and_constructor() {
        let parsed = parse_impl(quote! {
            impl Greeter {
                fn new() -> Self { Greeter }
                /// Says hello.
                ///
                /// More text.
                #[tau::export]
                pub fn greet(&self, name: String) -> String { name }
                #[export]
                async fn wait(&self, ms: u64) {}
                fn on_load(&self) -> Result<(), String> { Ok(()) }
                fn on_unload(&self) {}
                fn helper(&self) {}
            }
        })
        .unwrap();
        let names: Vec<String> = parsed.exports.iter().map(|e| e.method.sig.ident.to_string()).collect();
        assert_eq!(names, ["greet", "wait"]);
        assert_eq!(parsed.exports[0].doc, "Says hello.");
        assert_eq!(parsed.exports[0].params[0].name.as_ref().unwrap(), "name");
        assert!(parsed.constructor.is_some());
        assert!(parsed.on_load.as_ref().unwrap().returns_value());
        assert!(!parsed.on_unload.as_ref().unwrap().returns_value());
        // The export attributes are gone from what is emitted.
        let item = &parsed.item;
        let emitted = quote!(#item).to_string();
        assert!(!emitted.contains("export"), "{emitted}");
    }

    #[test]
    fn not_an_impl() {
        let error = parse_impl(quote! { fn greet() {} }).err().unwrap();
        assert!(error.to_string().starts_with("#[tau::plugin] can only be applied to an `impl` block"));
    }
}
