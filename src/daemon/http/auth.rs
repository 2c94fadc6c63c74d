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
pub(super) fn authorized(header: Option<&str>, creds: &Credentials) -> bool {
    let Some(value) = header else {
        return false;
    };
    let value = value.trim();
    let Some((scheme, cookie)) = value.split_once([' ', '\t']) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = BASE64.decode(cookie.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    let user_ok = ct_eq(user, creds.username.as_bytes());
    let password_ok = match creds.password.strip_prefix("{SHA}") {
        Some(hex) => {
            let digest = sha1_smol::Sha1::from(password).digest().to_string();
            ct_eq(digest.as_bytes(), hex.as_bytes())
        }
        None => ct_eq(password, creds.password.as_bytes()),
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
