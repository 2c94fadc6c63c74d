//! Unit tests of the loader: options, defaults, expansion names, includes,
//! numprocs and the error catalogue (spec config.md §3–§7).

use super::*;
