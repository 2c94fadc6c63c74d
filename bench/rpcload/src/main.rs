//! `rpcload (--unix PATH | --tcp HOST:PORT) [--clients N] [--seconds S] [--method NAME]`
//!
//! N keep-alive clients each send the same XML-RPC call in a loop for S
//! seconds and count complete answers; prints `requests/s`. Standard library
//! only, one thread per client, so the generator is never the bottleneck
//! for a server that answers on another core.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn connect(target: &str) -> Box<dyn Stream> {
    if let Some(path) = target.strip_prefix("unix:") {
        Box::new(UnixStream::connect(path).expect("connect to the unix socket"))
    } else {
        let stream = TcpStream::connect(target).expect("connect over TCP");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Box::new(stream)
    }
}

fn request(method: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n</params>\n</methodCall>\n"
    );
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Read one response; returns false when the connection is gone.
fn read_response(reader: &mut BufReader<Box<dyn Stream>>, body: &mut Vec<u8>) -> bool {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let Some(length) = length else { return false };
    body.resize(length, 0);
    reader.read_exact(body).is_ok() && body.starts_with(b"<?xml")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let target = value("--unix")
        .map(|p| format!("unix:{p}"))
        .or_else(|| value("--tcp"))
        .expect("--unix PATH or --tcp HOST:PORT");
    let clients: usize = value("--clients").map_or(1, |v| v.parse().unwrap());
    let seconds: f64 = value("--seconds").map_or(5.0, |v| v.parse().unwrap());
    let method = value("--method").unwrap_or_else(|| "supervisor.getAllProcessInfo".into());
    let request = request(&method);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (target, request) = (target.clone(), request.clone());
            std::thread::spawn(move || {
                let stream = connect(&target);
                let mut reader = BufReader::new(stream);
                let mut body = Vec::new();
                let mut done = 0u64;
                while Instant::now() < deadline {
                    if reader.get_mut().write_all(&request).is_err() || !read_response(&mut reader, &mut body) {
                        break;
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!("{:.0}", total as f64 / elapsed);
}
