//! # tau-abi
//!
//! The whole ABI between a tau host and its plugins, in one place. Exactly
//! two tables cross a plugin library's boundary, and nothing else:
//!
//! 1. [`plugin`] — the **descriptor** (plugin → host): the one symbol a
//!    plugin library exports ([`plugin::PLUGIN_SYMBOL`]), a
//!    [`PluginHeader`](plugin::PluginHeader) of plain data the host checks
//!    before it calls anything, and the
//!    [`PluginDescriptor`](plugin::PluginDescriptor) with one row per
//!    export; the [`CallHandle`](plugin::CallHandle) of a running async
//!    call; the call statuses ([`plugin::CALL_OK`] …).
//! 2. [`runtime`] — the **runtime table** (host → plugin): the `extern "C"`
//!    functions through which every plugin (and standalone code, through
//!    an embedded runtime) reaches the one runtime: tasks, timers, IO,
//!    the blocking pool, the process's signals and terminal; the C-ABI
//!    waker; the poll and error codes.
//!
//! Each table has a version constant ([`plugin::PLUGIN_ABI_VERSION`],
//! [`runtime::ABI_VERSION`]) and one compatibility check
//! ([`runtime::check_abi_version`], [`RuntimeTable::check_compatible`](runtime::RuntimeTable::check_compatible)),
//! used by both sides. Who owns each pointer that crosses is documented on
//! each module.
//!
//! This crate has no behaviour: the runtime behind the table is `tau-rt`,
//! the plugin side (what the macros generate) is `tau-sdk`, the host side
//! is `tau-host`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod plugin;
pub mod runtime;
