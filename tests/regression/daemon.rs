//! Regressions in the daemon: processes, logs, RPC methods, the event loop.

#[allow(unused_imports)]
use super::common;
