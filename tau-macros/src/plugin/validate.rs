//! What `#[tau::plugin]` accepts. Every error points at the offending
//! tokens and says what to write instead. Checks that need the compiler's
//! knowledge of types (`Default`, `Send`) are emitted by [`super::expand`] as
//! trait bounds with their own messages.

use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, ReturnType, Type};

use super::parse::{Export, Hook, PluginImpl};

/// Checks the impl, its exports and its hooks; pushes every problem found.
pub(crate) fn check(plugin: &PluginImpl, errors: &mut Vec<syn::Error>) {
    let item = &plugin.item;
    if let Some((_, trait_path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            trait_path,
            "#[tau::plugin] goes on the inherent impl of the plugin type (`impl MyPlugin { .. }`), not on a trait impl",
        ));
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &item.generics,
            "a plugin type cannot be generic: the library exports one concrete type; use a concrete type or a type alias",
        ));
    }
    if !matches!(&*item.self_ty, Type::Path(_)) {
        errors.push(syn::Error::new_spanned(
            &item.self_ty,
            "the plugin type must be a named struct or enum, such as `impl Greeter { .. }`",
        ));
    }
    if let Some(unsafety) = &item.unsafety {
        errors.push(syn::Error::new_spanned(unsafety, "a plugin impl cannot be `unsafe`"));
    }
    if plugin.exports.is_empty() {
        errors.push(syn::Error::new_spanned(
            &item.self_ty,
            "a plugin needs at least one method marked `#[tau::export]`",
        ));
    }
    for export in &plugin.exports {
        check_export(export, errors);
    }
    for hook in [&plugin.on_load, &plugin.on_unload].into_iter().flatten() {
        check_hook(hook, errors);
    }
}

fn check_export(export: &Export, errors: &mut Vec<syn::Error>) {
    let sig = &export.method.sig;
    let name = &sig.ident;
    if let Some(param) = sig.generics.params.first() {
        let what = match param {
            GenericParam::Lifetime(_) => "lifetime parameters",
            GenericParam::Type(_) => "type parameters",
            GenericParam::Const(_) => "const parameters",
        };
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "export `{name}` cannot have {what}: a plugin exports one concrete entry point per method; use concrete, owned types"
            ),
        ));
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!("export `{name}` cannot have a where clause"),
        ));
    }
    for (keyword, span) in [
        ("unsafe", sig.unsafety.map(|token| token.span())),
        ("extern", sig.abi.as_ref().map(|abi| abi.span())),
        ("const", sig.constness.map(|token| token.span())),
    ] {
        if let Some(span) = span {
            errors.push(syn::Error::new(
                span,
                format!("export `{name}` cannot be `{keyword}`; remove `{keyword}`"),
            ));
        }
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(variadic, format!("export `{name}` cannot be variadic")));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => match &*receiver.ty {
            Type::Reference(reference) if reference.mutability.is_some() => errors.push(syn::Error::new_spanned(
                receiver,
                format!(
                    "export `{name}` takes `&mut self`; take `&self`: calls may run concurrently, so keep mutable state in an atomic, a `Mutex` or an `RwLock`"
                ),
            )),
            Type::Reference(reference) if has_named_lifetime(reference) => {
                errors.push(receiver_lifetime_error(receiver, &format!("export `{name}`")))
            }
            Type::Reference(_) => {}
            _ => errors.push(syn::Error::new_spanned(
                receiver,
                format!("export `{name}` takes `self` by value; take `&self`: the plugin instance lives until unload"),
            )),
        },
        _ => errors.push(syn::Error::new_spanned(
            name,
            format!("export `{name}` has no `self`; exports are methods: add `&self` as the first parameter"),
        )),
    }
    for param in &export.params {
        if param.name.is_none() {
            errors.push(syn::Error::new_spanned(
                &param.pat,
                format!("parameters of export `{name}` must be plain names (`value: Type`), not patterns"),
            ));
        }
        check_crossing_type(&param.ty, &format!("parameter of export `{name}`"), errors);
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        check_crossing_type(ty, &format!("return type of export `{name}`"), errors);
    }
}

/// `&'a self`, `&'static self`, `self: &'static Self`: anything but an elided (or `'_`) lifetime.
fn has_named_lifetime(reference: &syn::TypeReference) -> bool {
    reference.lifetime.as_ref().is_some_and(|lifetime| lifetime.ident != "_")
}

/// The instance is freed at unload, whatever still borrows it: a `'static`
/// borrow would let a blocking job or a thread read it after that.
fn receiver_lifetime_error(receiver: &syn::Receiver, what: &str) -> syn::Error {
    syn::Error::new_spanned(
        receiver,
        format!(
            "{what} names a lifetime on `self`; use `&self`: the plugin instance is freed at unload, so no borrow of it may outlive the call. To share state with a blocking job or a thread, keep it in an `Arc` field and clone it"
        ),
    )
}

/// Rejects types that can never cross: borrows, `impl Trait`, trait objects.
fn check_crossing_type(ty: &Type, what: &str, errors: &mut Vec<syn::Error>) {
    let problem = match ty {
        Type::Reference(reference) => {
            let owned = match &*reference.elem {
                Type::Path(path) if path.path.is_ident("str") => "`String`",
                Type::Slice(_) => "a `Vec`",
                _ => "an owned value",
            };
            Some(format!(
                "the {what} is borrowed (`{}`), and borrows cannot cross the plugin boundary; take {owned} instead",
                quote::quote!(#ty).to_string().replace(" ", "")
            ))
        }
        Type::ImplTrait(_) => Some(format!(
            "the {what} is `impl Trait`; exports need concrete types (box it: `Box<dyn Trait + Send>`)"
        )),
        Type::TraitObject(_) => {
            Some(format!("the {what} is an unsized trait object; box it: `Box<dyn Trait + Send>`"))
        }
        Type::Infer(_) => Some(format!("the {what} must be written out, not `_`")),
        Type::Never(_) => None,
        Type::Path(path) => {
            // Look inside generic arguments (`Option<&str>`, `Vec<impl Trait>`);
            // a trait object behind a pointer (`Box<dyn Any + Send>`) is sized.
            for segment in &path.path.segments {
                let is_pointer = ["Box", "Arc", "Rc"].iter().any(|name| segment.ident == name);
                if let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments {
                    for argument in &arguments.args {
                        match argument {
                            syn::GenericArgument::Type(Type::TraitObject(_)) if is_pointer => {}
                            syn::GenericArgument::Type(inner) => check_crossing_type(inner, what, errors),
                            _ => {}
                        }
                    }
                }
            }
            None
        }
        Type::Tuple(tuple) => {
            for inner in &tuple.elems {
                check_crossing_type(inner, what, errors);
            }
            None
        }
        _ => None,
    };
    if let Some(message) = problem {
        errors.push(syn::Error::new_spanned(ty, message));
    }
}

fn check_hook(hook: &Hook, errors: &mut Vec<syn::Error>) {
    let sig = &hook.method.sig;
    let name = &sig.ident;
    let takes_ref_self = matches!(
        sig.inputs.first(),
        Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_none()
    );
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        if matches!(&*receiver.ty, Type::Reference(reference) if has_named_lifetime(reference)) {
            errors.push(receiver_lifetime_error(receiver, &format!("the `{name}` hook")));
        }
    }
    if !takes_ref_self || sig.inputs.len() != 1 || !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            sig,
            format!(
                "`{name}` is a plugin hook and must be `fn {name}(&self)`, returning `()` or `Result<(), E>`"
            ),
        ));
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            format!("the `{name}` hook cannot be `async`; spawn a task from it with `tau::spawn` if it needs to await"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::parse::parse_impl;

    fn errors_of(source: &str) -> Vec<(String, String)> {
        let plugin = parse_impl(source.parse().unwrap()).unwrap();
        let mut errors = Vec::new();
        check(&plugin, &mut errors);
        errors
            .into_iter()
            .map(|error| {
                let span = error.span();
                let text = span.source_text().unwrap_or_default();
                (error.to_string(), text)
            })
            .collect()
    }

    #[test]
    fn accepts_a_plain_plugin() {
        let source =
            "impl P { #[tau::export] fn a(&self, x: Option<String>) -> Result<u8, String> { Ok(1) } \
                      #[tau::export] async fn b(&self) {} fn on_load(&self) {} }";
        assert_eq!(errors_of(source), []);
    }

    #[test]
    fn boxed_trait_objects_cross_and_bare_ones_do_not() {
        let source = "impl P { #[tau::export] fn a(&self, x: Box<dyn std::any::Any + Send>) -> \
                      Option<std::sync::Arc<dyn Fn() + Send + Sync>> { None } }";
        assert_eq!(errors_of(source), []);
        let errors = errors_of("impl P { #[tau::export] fn a(&self) -> Vec<dyn Send> { todo!() } }");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].0.contains("unsized trait object"), "{errors:?}");
    }

    #[test]
    fn receivers() {
        let errors = errors_of(
            "impl P { #[tau::export] fn a(&mut self) {} #[tau::export] fn b(self) {} #[tau::export] fn c() {} }",
        );
        assert_eq!(errors.len(), 3);
        assert!(errors[0].0.contains("takes `&mut self`; take `&self`"));
        assert_eq!(errors[0].1, "&mut self");
        assert!(errors[1].0.contains("takes `self` by value"));
        assert!(errors[2].0.contains("has no `self`"));
        assert_eq!(errors[2].1, "c");
    }

    /// Issue 25, item 4: a `'static` borrow of the instance would let a
    /// blocking job or a thread read it after unload frees it.
    #[test]
    fn receivers_cannot_name_a_lifetime() {
        let errors = errors_of(
            "impl P { #[tau::export] async fn a(&'static self) {} #[tau::export] fn b(self: &'static Self) {} \
                      #[tau::export] fn c(&'_ self) {} #[tau::export] fn d(self: &Self) {} \
                      fn on_load(&'static self) {} }",
        );
        let messages: Vec<&str> = errors.iter().map(|(message, _)| message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0].starts_with("export `a` names a lifetime on `self`; use `&self`"),
            "{messages:?}"
        );
        assert!(messages[0].contains("keep it in an `Arc` field and clone it"), "{messages:?}");
        assert_eq!(errors[0].1, "&'static self");
        assert!(messages[1].starts_with("export `b` names a lifetime on `self`"), "{messages:?}");
        assert_eq!(errors[1].1, "self: &'static Self");
        assert!(messages[2].starts_with("the `on_load` hook names a lifetime on `self`"), "{messages:?}");
    }

    #[test]
    fn generics() {
        let errors = errors_of("impl P { #[tau::export] fn a<T: Clone>(&self, x: T) {} }");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].0.starts_with("export `a` cannot have type parameters"));
        assert_eq!(errors[0].1, "<T: Clone>");
    }

    #[test]
    fn borrowed_and_opaque_types() {
        let errors = errors_of(
            "impl P { #[tau::export] fn a(&self, name: &str, v: Option<&[u8]>) -> impl Fn() { || () } }",
        );
        let messages: Vec<&str> = errors.iter().map(|(message, _)| message.as_str()).collect();
        assert_eq!(errors.len(), 3, "{messages:?}");
        assert!(
            messages[0].contains("is borrowed (`&str`)") && messages[0].contains("take `String` instead")
        );
        assert_eq!(errors[0].1, "&str");
        assert!(messages[1].contains("take a `Vec` instead"));
        assert!(messages[2].contains("is `impl Trait`"));
    }

    #[test]
    fn impl_level_problems() {
        let errors = errors_of("impl<T> Clone for P<T> { }");
        let messages: Vec<&str> = errors.iter().map(|(message, _)| message.as_str()).collect();
        assert!(messages[0].contains("not on a trait impl"), "{messages:?}");
        assert!(messages[1].contains("cannot be generic"));
        assert!(messages[2].contains("at least one method marked `#[tau::export]`"));
    }

    #[test]
    fn hooks() {
        let errors = errors_of("impl P { #[tau::export] fn a(&self) {} async fn on_load(&self, x: u8) {} }");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].0.contains("must be `fn on_load(&self)`"));
        assert!(errors[1].0.contains("cannot be `async`"));
    }
}
