//! A container-first re-implementation of Supervisor 4.3.0.
//!
//! The binary is a multicall binary: see [`applet`] for how it picks what to run.

pub mod applet;
pub mod common;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod getopt;
pub mod namespec;
pub mod pyrepr;
pub mod xmlrpc;
