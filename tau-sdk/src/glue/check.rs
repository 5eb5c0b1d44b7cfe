//! Compile-time checks the generated code makes, with messages that say what to write.

/// The plugin type can be built without `fn new`.
#[diagnostic::on_unimplemented(
    message = "tau cannot build the plugin type `{Self}`",
    label = "`{Self}` does not implement `Default`",
    note = "derive or implement `Default` for `{Self}`, or add `fn new() -> Self` to the `#[tau::plugin]` impl"
)]
pub trait Constructible: Sized {
    fn construct() -> Self;
}

impl<T: Default> Constructible for T {
    fn construct() -> Self {
        T::default()
    }
}

/// `fn new` returns the plugin type itself.
#[diagnostic::on_unimplemented(
    message = "`fn new` of the plugin type must return `{T}`, not `{Self}`",
    label = "must be `fn new() -> Self`",
    note = "`fn new` cannot fail; to refuse to load, return `Err` from `fn on_load(&self) -> Result<(), E>`"
)]
pub trait NewReturnsSelf<T> {
    fn into_plugin(self) -> T;
}

impl<T> NewReturnsSelf<T> for T {
    fn into_plugin(self) -> T {
        self
    }
}

/// The plugin built by `fn new`.
pub fn built_by_new<T, R: NewReturnsSelf<T>>(value: R) -> T {
    value.into_plugin()
}

/// The plugin type can be shared by concurrent calls.
#[diagnostic::on_unimplemented(
    message = "the plugin type `{Self}` must be `Send + Sync + 'static`",
    label = "calls and tasks share this type across threads",
    note = "keep mutable state in atomics, `Mutex` or `RwLock` instead of `Cell`, `RefCell` or `Rc`"
)]
pub trait PluginType: Send + Sync + 'static {}

impl<T: Send + Sync + 'static> PluginType for T {}

/// A parameter or result can move to another thread.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the plugin boundary: it is not `Send + 'static`",
    label = "not `Send + 'static`",
    note = "exports take and return owned `Send` values: integers, floats, bool, String, Vec<u8>, Option and Result of those, types deriving `abi_stable::StableAbi`, channels"
)]
pub trait Crossing: Send + 'static {}

impl<T: Send + 'static> Crossing for T {}

pub const fn plugin_type<T: PluginType>() {}
pub const fn crossing<T: Crossing>() {}

/// The streams inside a result can be guarded (see [`super::crossing`]).
pub const fn guarded<T: super::crossing::Guard>() {}
