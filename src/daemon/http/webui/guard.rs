//! What protects the web UI in a browser: response headers that confine the
//! page (no inline script, no framing) and the check that refuses
//! state-changing requests made by other web sites (CSRF).
//!
//! A browser sends its Basic credentials with any request to this server,
//! whichever page caused it, so a page elsewhere could otherwise submit a
//! form to `/index.html` or `/RPC2`. Browsers say where a request comes
//! from: `Origin` on every POST (and on cross-origin fetches), and
//! `Sec-Fetch-Site` (to HTTPS and localhost). Programs such as Python's
//! `supervisorctl` send neither, so they are never refused.

use super::super::head::Head;

/// The page may load scripts, styles and data only from this server, never
/// inline; forms post only here; no page may frame it.
pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Headers on every web UI response (pages, assets, JSON).
pub(super) const HEADERS: [(&str, &str); 3] = [
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
];

/// Was this request made by a page of another site? `Sec-Fetch-Site`
/// decides when the browser sends it (pages cannot forge it, and it holds
/// behind a proxy that rewrites `Host`): anything but `same-origin` or
/// `none` (typed, bookmarked) is another site. Without it (plain HTTP to a
/// host other than localhost), `Origin` must name the host the request was
/// sent to (`Host`, or `X-Forwarded-Host` behind a proxy). Requests with
/// neither header (command-line clients) are not cross-site.
pub(crate) fn cross_site(head: &Head) -> bool {
    if let Some(site) = head.header("sec-fetch-site") {
        return !matches!(site.trim(), "same-origin" | "none");
    }
    let Some(origin) = head.header("origin") else {
        return false;
    };
    // "null": a sandboxed frame, a file, a redirect chain: not ours.
    let Some((_, authority)) = origin.trim().split_once("://") else {
        return true;
    };
    let authority = authority.trim_end_matches('/');
    let matches = |host: Option<&str>| {
        host.is_some_and(|h| {
            h.split(',')
                .any(|h| same_authority(h.trim(), authority, origin.starts_with("https:")))
        })
    };
    !(matches(head.header("host")) || matches(head.header("x-forwarded-host")))
}

/// `host` (from `Host`) names the same place as the origin's authority;
/// a default port may be left out of either.
fn same_authority(host: &str, authority: &str, https: bool) -> bool {
    let default = if https { ":443" } else { ":80" };
    let strip = |s: &str| -> String { s.strip_suffix(default).unwrap_or(s).to_ascii_lowercase() };
    !host.is_empty() && strip(host) == strip(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> Head {
        Head::new("POST", "/index.html", 1, headers.iter().copied())
    }

    #[test]
    fn programs_without_origin_are_never_cross_site() {
        assert!(!cross_site(&head(&[])));
        assert!(!cross_site(&head(&[("host", "localhost")])));
        assert!(!cross_site(&head(&[("host", "")])));
    }

    #[test]
    fn same_origin_pages_pass() {
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("origin", "http://127.0.0.1:9001"),
        ]);
        assert!(!cross_site(&h));
        let h = head(&[("host", "Example.org"), ("origin", "http://example.org:80")]);
        assert!(!cross_site(&h));
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("x-forwarded-host", "sv.example.org"),
            ("origin", "https://sv.example.org"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!cross_site(&h));
        assert!(!cross_site(&head(&[("sec-fetch-site", "none")])));
        // A proxy that rewrites Host: the browser's own word decides.
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("origin", "https://sv.example.org"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!cross_site(&h));
    }

    #[test]
    fn other_sites_are_refused() {
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("origin", "http://evil.example"),
        ]);
        assert!(cross_site(&h));
        let h = head(&[("host", "127.0.0.1:9001"), ("origin", "null")]);
        assert!(cross_site(&h));
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("origin", "http://127.0.0.1:9002"),
        ]);
        assert!(cross_site(&h));
        assert!(cross_site(&head(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&head(&[("sec-fetch-site", "same-site")])));
        let h = head(&[
            ("host", "127.0.0.1:9001"),
            ("origin", "http://127.0.0.1:9001"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(cross_site(&h), "Sec-Fetch-Site outranks a matching Origin");
        let h = head(&[("origin", "http://127.0.0.1:9001")]);
        assert!(
            cross_site(&h),
            "an Origin with no Host to compare is refused"
        );
    }
}
