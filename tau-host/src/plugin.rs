//! A loaded plugin: its exports, and calls into them.

use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::path::Path;
use std::sync::Arc;

use abi_stable::std_types::{RSlice, RStr, RString};
use tau::plugin::abi::{CallHandle, ExportDescriptor, TypeDescriptor, TypeIdentity};

use crate::call::{finish, Args, PluginCall};
use crate::error::CallError;
use crate::library::Library;

/// Identifies a loaded plugin within its [`Host`](crate::Host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId(pub(crate) u32);

impl PluginId {
    /// The number the runtime tags this plugin's tasks with.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A plugin loaded into a [`Host`](crate::Host). Borrowed from the host, so
/// it cannot outlive its unload.
pub struct Plugin {
    pub(crate) id: PluginId,
    /// The instance `create` returned; handed back to `destroy` at unload.
    pub(crate) instance: *mut c_void,
    /// The runtime table the plugin's code uses (tags its tasks with `id`).
    pub(crate) scope: tau_rt::RuntimeScope,
    pub(crate) library: Arc<Library>,
}

// SAFETY: the instance is `Send + Sync` (checked at compile time by the
// plugin macro); the rest is Send + Sync.
unsafe impl Send for Plugin {}
// SAFETY: as above.
unsafe impl Sync for Plugin {}

/// What an export looks like, for listing and checking calls.
#[derive(Clone, Copy)]
pub struct Export<'a> {
    descriptor: &'a ExportDescriptor,
}

impl<'a> Export<'a> {
    /// The method's name.
    pub fn name(&self) -> &'a str {
        self.descriptor.name.as_str()
    }

    /// The first paragraph of its doc comment.
    pub fn doc(&self) -> &'a str {
        self.descriptor.doc.as_str()
    }

    /// True for `async fn` exports.
    pub fn is_async(&self) -> bool {
        self.descriptor.is_async
    }

    /// Its parameters as `(name, type as spelled in the plugin)`.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.descriptor.params.iter().map(|param| (param.name.as_str(), param.ty.spelled.as_str()))
    }

    /// Its return type as spelled in the plugin.
    pub fn output(&self) -> &'a str {
        self.descriptor.output.spelled.as_str()
    }

    fn param_list(&self) -> Vec<String> {
        self.params().map(|(name, ty)| format!("{name}: {ty}")).collect()
    }
}

impl fmt::Display for Export<'_> {
    /// `async greet(name: String) -> String`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.is_async() { "async " } else { "" };
        write!(f, "{prefix}{}({}) -> {}", self.name(), self.param_list().join(", "), self.output())
    }
}

impl fmt::Debug for Export<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Export({self})")
    }
}

impl Plugin {
    /// Its id in the host.
    pub fn id(&self) -> PluginId {
        self.id
    }

    /// The plugin crate's package name.
    pub fn name(&self) -> &str {
        self.library.descriptor().name.as_str()
    }

    /// The plugin crate's version.
    pub fn version(&self) -> &str {
        self.library.descriptor().version.as_str()
    }

    /// The library it was loaded from.
    pub fn path(&self) -> &Path {
        self.library.path()
    }

    /// Tasks of the plugin alive now: spawned and not finished, counting
    /// spawns still queued from other threads.
    pub fn alive_tasks(&self) -> usize {
        self.scope.alive_tasks()
    }

    /// Completes when the plugin has no task alive (see
    /// [`alive_tasks`](Self::alive_tasks)): at once if it has none, else when
    /// its last task finishes or is cancelled. Woken by the runtime, not by
    /// polling. `tau run` and `tau call` wait on it, with a grace period,
    /// before they unload a plugin.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let mut host = tau_host::Host::new()?;
    /// let id = host.load("plugins/example-plugin")?;
    /// let plugin = host.plugin(id).unwrap();
    /// let settled = host.block_on(async { tau::time::timeout(Duration::from_secs(1), plugin.idle()).await });
    /// if settled.is_err() {
    ///     eprintln!("{} tasks still running; unloading cancels them", plugin.alive_tasks());
    /// }
    /// host.unload(id)?;
    /// # Ok(()) }
    /// ```
    pub fn idle(&self) -> Idle<'_> {
        Idle { scope: &self.scope }
    }

    /// Its exports, in source order.
    pub fn exports(&self) -> impl Iterator<Item = Export<'_>> {
        self.library.descriptor().exports.iter().map(|descriptor| Export { descriptor })
    }

    /// The export called `name`, if there is one.
    pub fn export(&self, name: &str) -> Option<Export<'_>> {
        self.exports().find(|export| export.name() == name)
    }

    fn find(&self, name: &str) -> Result<Export<'_>, CallError> {
        self.export(name).ok_or_else(|| CallError::UnknownExport {
            plugin: self.name().to_string(),
            export: name.to_string(),
            available: self.exports().map(|export| export.to_string()).collect(),
        })
    }

    /// Checks `A` and `R` against the export's signature.
    fn check_types<A: Args, R: 'static>(export: Export<'_>) -> Result<(), CallError> {
        let given = A::identities();
        let params: Vec<&TypeDescriptor> = export.descriptor.params.iter().map(|param| &param.ty).collect();
        if given.len() != params.len() {
            return Err(CallError::Arity {
                export: export.name().to_string(),
                expected: export.param_list(),
                given: given.len(),
            });
        }
        let check = |what: String, expected: &TypeDescriptor, given: &TypeIdentity| {
            given.check(&(expected.identity)()).map_err(|why| CallError::Type {
                export: export.name().to_string(),
                what,
                expected: expected.spelled.to_string(),
                given: given.name.to_string(),
                why,
            })
        };
        for ((name, _), (expected, given)) in export.params().zip(params.iter().zip(&given)) {
            check(format!("parameter `{name}`"), expected, given)?;
        }
        check("the result".to_string(), &export.descriptor.output, &TypeIdentity::of::<R>())
    }

    /// Calls a sync export and returns its result. `args` is a tuple of the
    /// export's parameter types (`()` for none, `(x,)` for one); `R` is its
    /// return type. Both are checked against the export's signature.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut host = tau_host::Host::new()?;
    /// let id = host.load("plugins/example-plugin")?;
    /// let sum: i64 = host.plugin(id).unwrap().call("add", (1i64, 2i64))?;
    /// assert_eq!(sum, 3);
    /// # Ok(()) }
    /// ```
    pub fn call<R: 'static, A: Args>(&self, export: &str, args: A) -> Result<R, CallError> {
        self.typed(export)?.call(args)
    }

    /// A checked, reusable entry to a sync export: the lookup and type
    /// checks happen once, here, and each [`TypedExport::call`] is a direct
    /// call through the descriptor.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut host = tau_host::Host::new()?;
    /// let id = host.load("plugins/example-plugin")?;
    /// let add = host.plugin(id).unwrap().typed::<(i64, i64), i64>("add")?;
    /// let total: i64 = (0..10).map(|i| add.call((i, 1)).unwrap()).sum();
    /// assert_eq!(total, 55);
    /// # Ok(()) }
    /// ```
    pub fn typed<A: Args, R: 'static>(&self, export: &str) -> Result<TypedExport<'_, A, R>, CallError> {
        let found = self.find(export)?;
        if found.is_async() {
            return Err(CallError::IsAsync { export: export.to_string() });
        }
        Self::check_types::<A, R>(found)?;
        Ok(TypedExport { plugin: self, descriptor: found.descriptor, types: PhantomData })
    }

    /// Starts a call of any export and returns a [`PluginCall`] to await
    /// (or abort). An async export runs as a task of the plugin on the
    /// shared runtime; a sync export runs now and its call is already finished.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut host = tau_host::Host::new()?;
    /// let id = host.load("plugins/example-plugin")?;
    /// let plugin = host.plugin(id).unwrap();
    /// // Two calls of an async export in flight at once, on the one runtime.
    /// let first = plugin.spawn_call::<i64, _>("slow_double", (1i64,))?;
    /// let second = plugin.spawn_call::<i64, _>("slow_double", (2i64,))?;
    /// let (first, second) = host.block_on(async { (first.await, second.await) });
    /// assert_eq!((first?, second?), (2, 4));
    /// # Ok(()) }
    /// ```
    pub fn spawn_call<R: Send + 'static, A: Args>(
        &self,
        export: &str,
        args: A,
    ) -> Result<PluginCall<R>, CallError> {
        let found = self.find(export)?;
        Self::check_types::<A, R>(found)?;
        if !found.is_async() {
            // SAFETY: the types were checked; a sync export writes an `R`.
            let result = unsafe { self.call_typed::<A, R>(found.descriptor, args) };
            return Ok(PluginCall::ready(export, result));
        }
        // SAFETY: the types were checked; an async export writes a CallHandle.
        let handle = unsafe { self.call_typed::<A, CallHandle>(found.descriptor, args) }?;
        Ok(PluginCall::running(export, handle, Arc::clone(&self.library)))
    }

    /// Calls an export with arguments given as text (parsed by the plugin
    /// with `FromStr` and the rules of `tau::plugin::TextValue`) and renders
    /// its result as text. Returns a [`PluginCall`] to await, as
    /// [`spawn_call`](Self::spawn_call) does.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut host = tau_host::Host::new()?;
    /// let id = host.load("plugins/example-plugin")?;
    /// let plugin = host.plugin(id).unwrap();
    /// let call = plugin.call_text("add", &["40", "2"])?;
    /// assert_eq!(host.block_on(call)?, "42");
    /// // A bad argument is the plugin's clear error, not a panic.
    /// let error = host.block_on(plugin.call_text("add", &["forty", "2"])?).unwrap_err();
    /// assert!(error.to_string().contains("not a valid i64"));
    /// # Ok(()) }
    /// ```
    pub fn call_text(&self, export: &str, args: &[&str]) -> Result<PluginCall<String>, CallError> {
        let found = self.find(export)?;
        if args.len() != found.descriptor.params.len() {
            return Err(CallError::Arity {
                export: export.to_string(),
                expected: found.param_list(),
                given: args.len(),
            });
        }
        let args: Vec<RStr<'_>> = args.iter().map(|arg| RStr::from_str(arg)).collect();
        if found.is_async() {
            // SAFETY: an async export's text entry writes a CallHandle.
            let handle = unsafe { self.call_text_entry::<CallHandle>(found.descriptor, &args) }?;
            return Ok(PluginCall::running_text(export, handle, Arc::clone(&self.library), |text| text));
        }
        // SAFETY: a sync export's text entry writes an RString.
        let result = unsafe { self.call_text_entry::<RString>(found.descriptor, &args) };
        Ok(PluginCall::ready(export, result.map(RString::into_string)))
    }

    /// Calls `descriptor`'s typed entry point with `args`; returns the `T` it writes.
    ///
    /// # Safety
    /// `A` matches the export's parameters and the entry point writes a `T`
    /// on success (the return type, or a `CallHandle` for async exports).
    #[inline(always)]
    unsafe fn call_typed<A, T>(&self, descriptor: &ExportDescriptor, args: A) -> Result<T, CallError> {
        let mut out = MaybeUninit::<T>::uninit();
        let mut args = ManuallyDrop::new(args);
        let mut error = RString::new();
        // SAFETY: per the contract; the instance lives while the plugin is
        // borrowed; the entry point moves the arguments out, so they are not
        // dropped here (ManuallyDrop).
        let status = unsafe {
            (descriptor.call)(
                self.instance,
                &mut *args as *mut A as *mut c_void,
                out.as_mut_ptr() as *mut c_void,
                &mut error,
            )
        };
        // SAFETY: on CALL_OK the entry point wrote a T.
        unsafe { finish(status, out, error, descriptor.name.as_str()) }
    }

    /// Calls `descriptor`'s text entry point; returns the `T` it writes.
    ///
    /// # Safety
    /// The entry point writes a `T` on success (an `RString`, or a
    /// `CallHandle` for async exports).
    unsafe fn call_text_entry<T>(
        &self,
        descriptor: &ExportDescriptor,
        args: &[RStr<'_>],
    ) -> Result<T, CallError> {
        let mut out = MaybeUninit::<T>::uninit();
        let mut error = RString::new();
        // SAFETY: the instance is live; `out` has room for a T (the contract).
        let status = unsafe {
            (descriptor.call_text)(
                self.instance,
                RSlice::from_slice(args),
                out.as_mut_ptr() as *mut c_void,
                &mut error,
            )
        };
        // SAFETY: on CALL_OK the entry point wrote a T.
        unsafe { finish(status, out, error, descriptor.name.as_str()) }
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("version", &self.version())
            .field("path", &self.path())
            .finish()
    }
}

/// The future of [`Plugin::idle`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Idle<'p> {
    scope: &'p tau_rt::RuntimeScope,
}

impl std::future::Future for Idle<'_> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let waker = tau::io::make_ffi_waker(cx);
        if self.scope.poll_idle(&waker) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl fmt::Debug for Idle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idle").field("alive_tasks", &self.scope.alive_tasks()).finish()
    }
}

/// A sync export with checked types; see [`Plugin::typed`].
pub struct TypedExport<'p, A, R> {
    plugin: &'p Plugin,
    descriptor: &'p ExportDescriptor,
    types: PhantomData<fn(A) -> R>,
}

impl<A: Args, R> TypedExport<'_, A, R> {
    /// Calls the export.
    #[inline]
    pub fn call(&self, args: A) -> Result<R, CallError> {
        // SAFETY: the types were checked when this was made, and a sync
        // export writes its return type.
        unsafe { self.plugin.call_typed::<A, R>(self.descriptor, args) }
    }
}
