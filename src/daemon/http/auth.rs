//! HTTP Basic authentication (`http.md` §3).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::config::model::Credentials;

/// The challenge sent with every 401.
pub(super) const CHALLENGE: &str = "Basic realm=\"default\"";

/// Standard alphabet; padding optional (clients differ).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Does the `Authorization` header value satisfy `creds`?
///
/// Basic only (scheme case-insensitive); `user:password` split at the first
/// colon; a configured password `{SHA}<hex>` matches when the lower-case hex
/// SHA-1 of the supplied password equals `<hex>`, any other password matches
/// by equality. Anything malformed is simply unauthorized (Python answers 400
/// or 500 for some of it). Comparisons take the same time whatever matches.
#[cfg(test)]
pub(super) fn authorized(header: Option<&str>, creds: &Credentials) -> bool {
    access(header, creds) == Access::Full
}

/// What a request's credentials allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Denied,
    /// The read-only login (`readonly_username`): view, change nothing.
    ReadOnly,
    Full,
}

/// Check the `Authorization` header against the login and, failing that,
/// the read-only login (see [`authorized`] for the rules of each).
/// What a request may do on a server with `creds`: its Basic credentials
/// decide, except that with `probes_without_auth` a GET or HEAD of
/// `/healthz` or `/readyz` without valid ones may still look (read-only).
pub(super) fn request_access(head: &super::head::Head, creds: &Credentials) -> Access {
    use super::Probe;
    match access(head.header("authorization"), creds) {
        Access::Denied
            if creds.open_probes
                && matches!(head.method(), "GET" | "HEAD")
                && matches!(
                    Probe::at(&super::head::request_path(head.target())),
                    Some(Probe::Healthz | Probe::Readyz)
                ) =>
        {
            Access::ReadOnly
        }
        access => access,
    }
}

pub(super) fn access(header: Option<&str>, creds: &Credentials) -> Access {
    let Some((user, password)) = header.and_then(basic_pair) else {
        return Access::Denied;
    };
    if matches(&user, &password, &creds.username, &creds.password) {
        return Access::Full;
    }
    match &creds.readonly {
        Some((u, p)) if matches(&user, &password, u, p) => Access::ReadOnly,
        _ => Access::Denied,
    }
}

/// `Basic <base64 of user:password>` → the two parts (split at the first colon).
fn basic_pair(value: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let (scheme, cookie) = value.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64.decode(cookie.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

fn matches(user: &[u8], password: &[u8], want_user: &str, want_password: &str) -> bool {
    let user_ok = ct_eq(user, want_user.as_bytes());
    let password_ok = match want_password.strip_prefix("{SHA}") {
        Some(hex) => {
            let digest = sha1_smol::Sha1::from(password).digest().to_string();
            ct_eq(digest.as_bytes(), hex.as_bytes())
        }
        None => ct_eq(password, want_password.as_bytes()),
    };
    user_ok & password_ok
}

/// Equality whose time depends on the lengths only, not on where the first
/// difference is.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials {
            username: user.to_string(),
            password: password.to_string(),
            open_probes: false,
            readonly: None,
        }
    }

    fn basic(text: &str) -> String {
        format!("Basic {}", BASE64.encode(text))
    }

    #[test]
    fn plain_and_sha_passwords() {
        let plain = creds("user", "pa:ss");
        assert!(authorized(Some(&basic("user:pa:ss")), &plain));
        assert!(authorized(
            Some(&basic("user:pa:ss").replace("Basic", "bAsIc")),
            &plain
        ));
        assert!(!authorized(Some(&basic("user:pa")), &plain));
        assert!(!authorized(Some(&basic("usr:pa:ss")), &plain));
        assert!(!authorized(None, &plain));
        // sha1("thepassword")
        let sha = creds("user", "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d");
        assert!(authorized(Some(&basic("user:thepassword")), &sha));
        assert!(!authorized(
            Some(&basic("user:{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d")),
            &sha
        ));
    }

    #[test]
    fn malformed_is_unauthorized() {
        let c = creds("user", "pw");
        for header in [
            "",
            "Basic",
            "Basic !!!",
            "Digest abc",
            &basic("nocolon"),
            "Basic dXNlcjpwdw", // unpadded is fine
        ] {
            let expected = header == "Basic dXNlcjpwdw";
            assert_eq!(authorized(Some(header), &c), expected, "{header:?}");
        }
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
