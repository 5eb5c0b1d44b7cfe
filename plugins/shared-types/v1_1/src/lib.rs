//! A test fixture: version 1.1 of `shared-types`. [`Config`] has the name,
//! size and alignment of 1.0's, and fields that mean something else.

/// Settings a host hands a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The timeout, in milliseconds (1.0 had `retries` here).
    pub timeout_ms: u32,
    /// Whether to stay quiet (1.0 had `verbose` here).
    pub quiet: bool,
}

impl Config {
    /// What the settings mean, in this version.
    pub fn describe(&self) -> String {
        format!("timeout_ms={} quiet={}", self.timeout_ms, self.quiet)
    }
}
