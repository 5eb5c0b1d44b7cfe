//! A real `#[tau::plugin]` whose names could trip the generated code: a
//! parameter called like the generated closure's argument (`plugin`), exports
//! whose entry points used to share a name (`get`'s text entry point and
//! `get_text`'s typed one), raw identifiers, which hosts call without `r#`,
//! and `Self` in signatures, which means nothing outside the impl.

/// A plugin made of awkward names.
pub struct Awkward;

#[tau::plugin]
impl Awkward {
    /// Builds the plugin (no `Default`; private is enough for the macro).
    fn new() -> Self {
        Awkward
    }

    /// Returns its argument.
    #[tau::export]
    pub fn get(&self, plugin: String) -> String {
        plugin
    }

    /// Returns two.
    #[tau::export]
    pub fn get_text(&self) -> u8 {
        2
    }

    /// Returns its argument.
    #[tau::export]
    pub fn r#type(&self, r#in: u8) -> u8 {
        r#in
    }

    /// Returns its argument, or a new plugin.
    #[tau::export]
    pub fn pick(&self, other: Option<Self>) -> Self {
        other.unwrap_or_else(Self::new)
    }

    /// Returns its argument, later.
    #[tau::export]
    pub async fn wait(&self, plugin: u8) -> u8 {
        plugin
    }
}

// Only read from Rust, never through C: its `&TypeLayout` field is not `repr(C)`.
#[allow(improper_ctypes)]
extern "C" {
    /// The header `#[tau::plugin]` exported from this very test binary.
    static TAU_PLUGIN: tau::plugin::abi::PluginHeader;
}

#[test]
fn descriptor_names_are_as_hosts_call_them() {
    // SAFETY: the static is defined (and initialised) by the macro above.
    let descriptor = unsafe { TAU_PLUGIN.descriptor };
    let names: Vec<&str> = descriptor.exports.iter().map(|export| export.name.as_str()).collect();
    assert_eq!(names, ["get", "get_text", "type", "pick", "wait"]);
    let params: Vec<Vec<&str>> = descriptor
        .exports
        .iter()
        .map(|export| export.params.iter().map(|param| param.name.as_str()).collect())
        .collect();
    assert_eq!(params, [vec!["plugin"], vec![], vec!["in"], vec!["other"], vec!["plugin"]]);
    let pick = &descriptor.exports[3];
    assert_eq!(pick.params[0].ty.spelled.as_str(), "Option<Awkward>");
    assert_eq!(pick.output.spelled.as_str(), "Awkward");
}

#[test]
fn methods_stay_ordinary_methods() {
    let plugin = Awkward;
    assert_eq!(plugin.get("x".into()), "x");
    assert_eq!(plugin.get_text(), 2);
    assert_eq!(plugin.r#type(7), 7);
    let _: Awkward = plugin.pick(None);
    assert_eq!(tau::block_on(plugin.wait(3)), 3);
}
