//! End-to-end, issue 11 item 9: what a typed call checks of its types (see
//! `tau::plugin::abi::TypeIdentity`). The host here is built against
//! `shared-types` 1.0; a plugin against 1.1, whose `Config` has 1.0's name,
//! size and alignment and fields that mean something else.
//!
//! A type of a crate other than std's and tau's is accepted only from the
//! same build of its crate: the same version, features and profile, and,
//! for a crate taken by path, the same workspace (cargo's `-C metadata`
//! covers all of these, and the `TypeId` covers it). The plugins here are
//! crates of their own, outside this workspace, so even the 1.0 one is
//! refused; a host and plugins in one workspace share such types.

mod common;

use common::{builder, host, plugin_dir};
use tau::stream::{BoxStream, StreamExt};
use tau_host::CallError;

fn config() -> shared_types::Config {
    shared_types::Config { retries: 3, verbose: true }
}

fn refusal(error: CallError) -> String {
    let CallError::Type { ref why, .. } = error else { panic!("not a type error: {error:?}") };
    assert!(why.contains("from a different build of `shared_types`"), "{error}");
    error.to_string()
}

#[test]
fn a_type_of_another_version_of_its_crate_is_refused() {
    let mut host = host();
    let new = host.load(plugin_dir("shared-types/plugin_1_1")).unwrap();
    let plugin = host.plugin(new).unwrap();
    let error = plugin.call::<String, _>("describe", (config(),)).unwrap_err();
    assert!(refusal(error).starts_with(
        "`describe`: parameter `config` is `shared_types::Config`, but the call uses `shared_types::Config`: \
         the same name and layout, but from a different build of `shared_types` (another version, other \
         features or another profile); tau cannot tell these apart, so it refuses"
    ));
    // Std types cross, and the plugin keeps working.
    assert_eq!(plugin.call::<String, _>("shout", ("hi".to_string(),)), Ok("HI".to_string()));

    // The same version, built outside this workspace: another build, refused too.
    let old = host.load(plugin_dir("shared-types/plugin_1_0")).unwrap();
    refusal(host.plugin(old).unwrap().call::<String, _>("describe", (config(),)).unwrap_err());
}

/// Release plugins called by this debug host: std and tau types cross
/// (their crates are pinned by the load checks), a boxed stream among them.
#[test]
fn across_profiles_std_and_tau_types_cross() {
    let mut host = host();
    let release = builder().release(true);
    let types = host.load(release.build(&plugin_dir("shared-types/plugin_1_0")).unwrap().library).unwrap();
    let plugin = host.plugin(types).unwrap();
    assert_eq!(plugin.call::<String, _>("shout", ("release".to_string(),)), Ok("RELEASE".to_string()));
    refusal(plugin.call::<String, _>("describe", (config(),)).unwrap_err());

    let producer =
        host.load(release.build(&plugin_dir("stream-test-plugin/producer")).unwrap().library).unwrap();
    let tokens: BoxStream<'static, String> = host.plugin(producer).unwrap().call("tokens", (3u32,)).unwrap();
    assert_eq!(host.block_on(tokens.collect::<Vec<_>>()), ["token-0", "token-1", "token-2"]);
}
