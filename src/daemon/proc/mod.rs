//! Processes: the pure state machine of one process, the table of all of
//! them, and the system calls that start (the only clone and fork), reap
//! and feed them.

mod child;
pub mod process;
pub mod reap;
pub mod spawn;
pub mod status;
pub mod stdin;
pub mod table;
