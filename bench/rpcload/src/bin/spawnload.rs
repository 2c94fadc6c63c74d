//! `spawnload N`: the baseline for "launch until N programs RUNNING": a plain
//! program that starts N `sleep 100000` with their stdin and stdout as pipes
//! (as a supervisor does), one after the other. `Command::spawn` returns once
//! the child has exec'd, so when the last one returns all N are running.
//! Prints the wall-clock time (nanoseconds since the epoch) at that moment,
//! then kills and reaps them all.

use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let n: usize = std::env::args().nth(1).map_or(100, |v| v.parse().expect("a count"));
    let mut children = Vec::with_capacity(n);
    for _ in 0..n {
        let child = Command::new("sleep")
            .arg("100000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sleep");
        children.push(child);
    }
    let done = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    println!("{}", done.as_nanos());
    for child in &mut children {
        let _ = child.kill();
    }
    for child in &mut children {
        let _ = child.wait();
    }
}
