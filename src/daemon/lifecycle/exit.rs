//! What supervisord exits with when a program decides it (README "Exit
//! status of supervisord").

use crate::daemon::proc::status::ExitStatus;

/// The exit status that reports how a program ended: its exit code; 128 + N
/// if signal N killed it (as shells do); 127 if it never ran (as shells
/// report a command that cannot be executed).
pub fn status_of(ended: Option<ExitStatus>) -> i32 {
    match ended {
        Some(ExitStatus::Code(code)) => code,
        Some(ExitStatus::Signal { signal, .. }) => 128 + signal,
        None => 127,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(status_of(Some(ExitStatus::Code(3))), 3);
        assert_eq!(status_of(Some(ExitStatus::Code(0))), 0);
        let killed = ExitStatus::Signal {
            signal: 9,
            core_dumped: false,
        };
        assert_eq!(status_of(Some(killed)), 137);
        assert_eq!(status_of(None), 127);
    }
}
