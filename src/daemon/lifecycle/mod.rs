//! The container lifecycle (our extension; opt-in, and free when unused):
//! dependencies between programs, health checks, and what makes
//! supervisord itself finish (essential programs, `exit_when_done`).

pub mod deps;
pub mod exit;
pub mod health;
