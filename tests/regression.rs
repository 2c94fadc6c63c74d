//! Regression tests, one per bug, each named after the bug it pins
//! (ripgrep's `tests/regression.rs` style). Grouped by the part of the
//! daemon the bug lived in, one module per part.

mod common;

#[path = "regression/config.rs"]
mod config;
#[path = "regression/daemon.rs"]
mod daemon;
#[path = "regression/http.rs"]
mod http;
