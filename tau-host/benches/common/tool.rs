//! The call benchmark's tool, shared by every design it compares (a tau
//! export, a child process, an async-ffi cdylib): serde_json only.

/// The tool of the call benchmark: a JSON request in, a JSON result out,
/// no work between (`{"tool": .., "args": {"x": n}}` → `{"ok": true, "x": n}`).
pub fn tool(request: &str) -> String {
    let request: serde_json::Value = serde_json::from_str(request).expect("a JSON request");
    serde_json::json!({ "ok": true, "x": request["args"]["x"] }).to_string()
}
