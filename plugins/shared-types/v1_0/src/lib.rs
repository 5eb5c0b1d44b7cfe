//! A test fixture: version 1.0 of a crate whose types a host and its
//! plugins share. Version 1.1 (`../v1_1`) keeps the name and the layout of
//! [`Config`] and changes what its fields mean.

/// Settings a host hands a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How many times to retry.
    pub retries: u32,
    /// Whether to say more.
    pub verbose: bool,
}

impl Config {
    /// What the settings mean, in this version.
    pub fn describe(&self) -> String {
        format!("retries={} verbose={}", self.retries, self.verbose)
    }
}
