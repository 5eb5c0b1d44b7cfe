// The plugin both `types-plugin-1-0` and `types-plugin-1-1` are made of.

/// No state.
#[derive(Default)]
pub struct Types;

#[tau::plugin]
impl Types {
    /// What `config` means to this plugin's version of `shared-types`.
    #[tau::export]
    pub fn describe(&self, config: shared_types::Config) -> String {
        config.describe()
    }

    /// A std type, for comparison.
    #[tau::export]
    pub fn shout(&self, text: String) -> String {
        text.to_uppercase()
    }
}
