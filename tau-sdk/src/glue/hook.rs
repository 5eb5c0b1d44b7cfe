//! The result of a hook (`on_load`, `on_unload`), as the thunks report it.

/// Turns a hook's or export's `Result` (or `()`) into the thunks' form.
pub trait HookResult {
    fn into_hook_result(self) -> Result<(), String>;
}

impl HookResult for () {
    fn into_hook_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Display> HookResult for Result<(), E> {
    fn into_hook_result(self) -> Result<(), String> {
        self.map_err(|error| error.to_string())
    }
}
