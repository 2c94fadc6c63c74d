//! Regression tests, one per bug, each named after the bug it pins
//! (ripgrep's `tests/regression.rs` style). Grouped by the part of the
//! program the bug lived in, one module per part.

mod common;

#[path = "regression/config.rs"]
mod config;
#[path = "regression/ctl.rs"]
mod ctl;
#[path = "regression/daemon.rs"]
mod daemon;
#[path = "regression/http.rs"]
mod http;
