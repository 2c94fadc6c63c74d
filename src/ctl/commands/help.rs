//! help: the command table and each command's help (spec supervisorctl.md
//! §4, §6; the wording is ours, one synopsis per form).

use super::{say, Session, COMMANDS};

impl Session {
    pub(super) fn help(&mut self, args: &[&str]) {
        match args.first() {
            None => {
                say("");
                say("default commands (type help <topic>):");
                say("=====================================");
                for row in help_table() {
                    say(&row);
                }
                say("");
            }
            Some(&"help") => {
                say("help\t\tPrint a list of available actions");
                say("help <action>\tPrint help for <action>");
            }
            Some(topic) if COMMANDS.contains(topic) => say(help_text(topic)),
            Some(topic) => say(&format!("*** No help on {topic}")),
        }
    }
}

/// The command names in columns, as Python's cmd module lays them out:
/// column-major, the fewest rows that fit 79 characters.
fn help_table() -> Vec<String> {
    let names = COMMANDS;
    for rows in 1..=names.len() {
        let columns = names.len().div_ceil(rows);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                (0..rows)
                    .filter_map(|r| names.get(c * rows + r))
                    .map(|n| n.len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total: usize = widths.iter().sum::<usize>() + 2 * (columns.saturating_sub(1));
        if total <= 79 {
            return (0..rows)
                .map(|r| {
                    // Every present column is padded to its width, the last one too.
                    let cells: Vec<String> = widths
                        .iter()
                        .enumerate()
                        .filter_map(|(c, width)| {
                            names.get(c * rows + r).map(|n| format!("{n:<width$}"))
                        })
                        .collect();
                    cells.join("  ")
                })
                .collect();
        }
    }
    vec![names.join("  ")]
}

/// A command's help, `""` for none.
pub(super) fn help_text(topic: &str) -> &'static str {
    match topic {
        "start" => "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes",
        "stop" => "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes",
        "restart" => "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update.",
        "signal" => "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes or groups\nsignal <signal name> all\t\tSignal all processes",
        "status" => "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\nstatus <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info\nstatus --json [<name>...]\tThe same as a JSON array of process info\n\t\t\t(every getProcessInfo member)",
        "pid" => "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\npid all\t\t\tGet the PID of every child process, one per line.",
        "tail" => "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr",
        "maintail" => "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main log file\nmaintail\tlast 1600 *bytes* of supervisor main log file",
        "clear" => "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "update" => "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate all\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate <gname> [...]\tUpdate specific groups",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        "open" => "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)",
        "quit" => "quit\tExit the supervisor shell.",
        "exit" => "exit\tExit the supervisor shell.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_table_matches_supervisors_layout() {
        // Captured from Python supervisorctl 4.3.0 `help` (trailing spaces included).
        assert_eq!(
            help_table(),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }
}
