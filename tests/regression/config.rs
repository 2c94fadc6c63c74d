//! Regressions in configuration loading.

#[allow(unused_imports)]
use super::common;
