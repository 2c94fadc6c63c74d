//! Regressions in the HTTP servers: connections, limits, timeouts.

#[allow(unused_imports)]
use super::common;
