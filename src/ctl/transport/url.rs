//! The server URL: `unix:///abs/path` or `http://host[:port][/…]`, read as
//! Python's client reads it, into where to connect and the `Host` header.

use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub(super) enum Endpoint {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

/// Where `serverurl` points and the `Host` header to send there. Err: the
/// text of an unusable URL (unknown scheme, bad host or port).
pub(super) fn parse(serverurl: &str) -> Result<(Endpoint, String), String> {
    if let Some(path) = serverurl.strip_prefix("unix://") {
        return Ok((Endpoint::Unix(PathBuf::from(path)), "localhost".to_string()));
    }
    let Some(rest) = serverurl.strip_prefix("http://") else {
        return Err(format!("Unknown protocol for serverurl {serverurl}"));
    };
    let (host, port) = parse_http_authority(serverurl, rest)?;
    // As Python's http.client: the port is left out when it is 80,
    // an IPv6 address is bracketed.
    let mut header = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    if port != 80 {
        let _ = write!(header, ":{port}");
    }
    Ok((Endpoint::Tcp { host, port }, header))
}

/// Host and port of `http://` URLs, as Python's `urlparse` reads them: the
/// authority ends at `/`, `?` or `#`; user info is dropped; the host is
/// lower-cased; an empty port means 80.
fn parse_http_authority(url: &str, rest: &str) -> Result<(String, u16), String> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostinfo = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = hostinfo.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(format!("Invalid IPv6 URL in serverurl {url}"));
        };
        match after.strip_prefix(':') {
            Some(port) => (host, port),
            None if after.is_empty() => (host, ""),
            None => return Err(format!("Invalid host in serverurl {url}")),
        }
    } else {
        hostinfo.split_once(':').unwrap_or((hostinfo, ""))
    };
    if host.is_empty() {
        return Err(format!("No host in serverurl {url}"));
    }
    if host.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("Invalid host in serverurl {url}"));
    }
    let port = if port.is_empty() {
        80
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse::<u16>()
            .map_err(|_| "Port out of range 0-65535".to_string())?
    } else {
        return Err(format!(
            "Port could not be cast to integer value as '{port}'"
        ));
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn urls() {
        assert_eq!(
            parse("ftp://x").unwrap_err(),
            "Unknown protocol for serverurl ftp://x"
        );
        assert!(parse("HTTP://x").is_err());
        for bad in [
            "http://",
            "http://:9001",
            "http://h:abc",
            "http://h:70000",
            "http://[::1",
            "http://a b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let cases = [
            ("http://127.0.0.1:9001", "127.0.0.1", 9001, "127.0.0.1:9001"),
            ("http://Example.COM", "example.com", 80, "example.com"),
            ("http://h:80/some/path?q#f", "h", 80, "h"),
            ("http://h:/RPC2", "h", 80, "h"),
            ("http://user:pw@h:5", "h", 5, "h:5"),
            ("http://[::1]:9001/", "::1", 9001, "[::1]:9001"),
        ];
        for (url, host, port, header) in cases {
            let (endpoint, host_header) = parse(url).unwrap();
            match &endpoint {
                Endpoint::Tcp { host: h, port: p } => {
                    assert_eq!((h.as_str(), *p), (host, port), "{url}")
                }
                Endpoint::Unix(_) => panic!("{url}"),
            }
            assert_eq!(host_header, header, "{url}");
        }
        let (endpoint, host_header) = parse("unix:///run/supervisor.sock").unwrap();
        assert!(matches!(&endpoint, Endpoint::Unix(p) if p == Path::new("/run/supervisor.sock")));
        assert_eq!(host_header, "localhost");
    }
}
