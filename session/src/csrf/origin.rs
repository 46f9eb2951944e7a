//! Whether an unsafe request says it comes from another origin, whatever token it carries.
//!
//! - `Origin` (sent by current browsers on every cross-origin request and on same-origin
//!   POSTs) must be the request's own origin (scheme, host and port, as actix's
//!   `ConnectionInfo` sees them through `Forwarded` / `X-Forwarded-*`) or an allowed one.
//!   `Origin: null` (a sandboxed frame, a redirect across origins) is never ours.
//! - Without `Origin`, a `Referer` is held to the same rule (Django's fallback); without
//!   either, the token alone decides: old browsers, privacy tools and non-browser clients send
//!   neither, and a browser that could be made to forge a request also sends one of them.
//! - `Sec-Fetch-Site: cross-site` is refused unless the request's origin is allowed.
//!   `same-site` is refused the same way: it means another origin of our site (a sibling
//!   subdomain, or our host over the other scheme), which may be less trusted than we are
//!   (user content, an HTTP page open to a network attacker) and can plant cookies for us.
//!   `same-origin` and `none` (the user's own navigation) pass.

use actix_web::http::header::HeaderMap;

/// `scheme://host[:port]`, lowercase, without the scheme's default port: the form two origins
/// are compared in. `None` for text that is not an origin.
pub(super) fn normalize(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if scheme.is_empty() || authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(own(scheme, authority))
}

/// The origin of a request served over `scheme` for `host` (a `Host`, with its port if any).
pub(super) fn own(scheme: &str, host: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    let host = default_port
        .and_then(|port| host.strip_suffix(port))
        .unwrap_or(&host);
    format!("{scheme}://{host}")
}

/// True when `headers` say the request comes from an origin other than `own` (normalized)
/// that `allowed` (normalized) does not list.
pub(super) fn is_cross_origin(headers: &HeaderMap, own: &str, allowed: &[String]) -> bool {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or_default());
    let claimed = match (text("origin"), text("referer")) {
        (Some(origin), _) => Some(normalize(origin)),
        (None, Some(referer)) => Some(normalize(referer)),
        (None, None) => None,
    };
    // An unparsable `Origin` (`null` included) is nobody's: only the token could vouch for
    // it, and the browser said it is not us.
    let allowed_origin = |origin: &Option<String>| {
        origin
            .as_deref()
            .is_some_and(|o| allowed.iter().any(|a| a == o))
    };
    if let Some(origin) = &claimed {
        if origin.as_deref() != Some(own) && !allowed_origin(origin) {
            return true;
        }
    }
    let other_site = text("sec-fetch-site").is_some_and(|site| {
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    });
    other_site && !claimed.as_ref().is_some_and(allowed_origin)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const OWN: &str = "http://127.0.0.1:8080";

    fn cross(headers: &[(&str, &str)], allowed: &[&str]) -> bool {
        let mut req = TestRequest::default();
        for &(name, value) in headers {
            req = req.insert_header((name, value));
        }
        let allowed: Vec<String> = allowed.iter().map(|a| normalize(a).unwrap()).collect();
        is_cross_origin(req.to_srv_request().headers(), OWN, &allowed)
    }

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        assert_eq!(own("HTTPS", "Shop.Example:443"), "https://shop.example");
        assert_eq!(own("http", "[::1]:80"), "http://[::1]");
        assert_eq!(own("http", "a:8080"), "http://a:8080");
        assert_eq!(
            normalize("https://shop.example:443/cart?x#y").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(normalize("null"), None);
        assert_eq!(normalize("https://user@evil"), None);
    }

    #[test]
    fn a_foreign_origin_or_referer_is_cross_origin() {
        assert!(!cross(&[("origin", OWN)], &[]));
        assert!(cross(&[("origin", "http://localhost:8080")], &[]));
        assert!(cross(&[("origin", "https://127.0.0.1:8080")], &[]));
        assert!(cross(&[("origin", "http://127.0.0.1:8081")], &[]));
        assert!(cross(&[("origin", "null")], &[]));
        assert!(cross(&[("origin", "garbage")], &[]));
        assert!(!cross(&[("referer", "http://127.0.0.1:8080/cart")], &[]));
        assert!(cross(&[("referer", "http://evil.example/page")], &[]));
        // `Origin` wins over `Referer`.
        assert!(!cross(
            &[("origin", OWN), ("referer", "http://evil.example/")],
            &[]
        ));
        assert!(!cross(&[], &[]), "no claim at all: the token decides");
    }

    #[test]
    fn sec_fetch_site_other_sites_are_refused_unless_allowed() {
        for site in ["cross-site", "same-site", "Cross-Site"] {
            assert!(cross(&[("sec-fetch-site", site)], &[]), "{site}");
            assert!(
                cross(&[("sec-fetch-site", site), ("origin", OWN)], &[]),
                "{site}"
            );
        }
        for site in ["same-origin", "none"] {
            assert!(
                !cross(&[("sec-fetch-site", site), ("origin", OWN)], &[]),
                "{site}"
            );
        }
    }

    #[test]
    fn the_allow_list_admits_its_origins_only() {
        let allowed = ["https://app.example"];
        let from_app = [
            ("origin", "https://app.example"),
            ("sec-fetch-site", "same-site"),
        ];
        assert!(!cross(&from_app, &allowed));
        assert!(cross(&[("origin", "https://evil.example")], &allowed));
        assert!(
            cross(&[("sec-fetch-site", "cross-site")], &allowed),
            "no origin to allow"
        );
    }
}
