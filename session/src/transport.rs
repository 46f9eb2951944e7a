//! How the session token travels (see [`Transport`]): finding it in a request, and the text a
//! response carries it in. The token itself (a signed id, or a sealed session) is the cookie
//! value of [`crate::cookie`]; only its envelope differs.

use std::time::Duration;

use actix_web::http::header::{self, HeaderMap, HeaderName};

use crate::{
    config::{Config, Transport},
    cookie::{check_size, session_cookies, set_cookie_text, Tokens, MAX_COOKIE_BYTES},
    SaveError,
};

/// Largest session token accepted in, and answered in, a header: 8 KiB, the smallest
/// request-header limit of common proxies and servers (nginx's default buffer, Apache's
/// `LimitRequestFieldSize`), so a token the middleware answers can be sent back through them.
pub const MAX_HEADER_TOKEN_BYTES: usize = 8192;

/// How one request carries its token, and so how its response answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    Cookie,
    Header,
}

impl Carrier {
    /// Longest raw token worth verifying: no honest client sends more.
    pub(crate) fn max_token_bytes(self) -> usize {
        match self {
            Self::Cookie => MAX_COOKIE_BYTES,
            Self::Header => MAX_HEADER_TOKEN_BYTES,
        }
    }

    /// The response text for a token `value`: the `Set-Cookie` text, or the token as it is
    /// (moved, not copied).
    pub(crate) fn render(
        self,
        config: &Config,
        value: String,
        ttl: Duration,
        own_ttl: bool,
    ) -> String {
        match self {
            Self::Cookie => set_cookie_text(config, &value, ttl, own_ttl),
            Self::Header => value,
        }
    }

    /// Refuses an answer its carrier would lose: a `Set-Cookie` browsers drop, or a header
    /// token proxies refuse.
    ///
    /// # Errors
    /// [`SaveError::CookieTooLarge`] or [`SaveError::TokenTooLarge`].
    pub(crate) fn check_size(self, text: &str) -> Result<(), SaveError> {
        match self {
            Self::Cookie => check_size(text),
            Self::Header if text.len() > MAX_HEADER_TOKEN_BYTES => Err(SaveError::TokenTooLarge {
                size: text.len(),
                limit: MAX_HEADER_TOKEN_BYTES,
            }),
            Self::Header => Ok(()),
        }
    }
}

/// The tokens a request presents (none, or every cookie of the session's name), and its
/// carrier.
pub(crate) fn request_token(config: &Config, headers: &HeaderMap) -> (Tokens, Carrier) {
    match &config.transport {
        Transport::Cookie => (
            session_cookies(headers, &config.cookie_name),
            Carrier::Cookie,
        ),
        Transport::Header(name) => (Tokens::one(header_token(headers, name)), Carrier::Header),
        Transport::Bearer(_) => (Tokens::one(bearer_token(headers)), Carrier::Header),
        Transport::Both(name) if headers.contains_key(name) => {
            (Tokens::one(header_token(headers, name)), Carrier::Header)
        }
        Transport::Both(_) => (
            session_cookies(headers, &config.cookie_name),
            Carrier::Cookie,
        ),
    }
}

/// The value of header `name`; an empty one is no token (a client that has none yet).
fn header_token(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let value = headers.get(name)?;
    let Ok(text) = value.to_str() else {
        tracing::warn!("session header rejected: not visible ASCII");
        crate::observe::refused(crate::observe::Refusal::Malformed);
        return None;
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The credentials of `Authorization: Bearer <token>` (the scheme is case-insensitive,
/// RFC 9110 §11.1); other schemes are no token.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The header a response answers the token in, for `carrier`; `None` for the cookie.
pub(crate) fn answer_header(config: &Config, carrier: Carrier) -> Option<&HeaderName> {
    match (&config.transport, carrier) {
        (_, Carrier::Cookie) | (Transport::Cookie, _) => None,
        (Transport::Header(name) | Transport::Bearer(name) | Transport::Both(name), _) => {
            Some(name)
        }
    }
}

/// The request headers a response whose session was read depends on, for `Vary`: the one the
/// token is read from (both the cookie and the header with [`Transport::Both`]).
pub(crate) fn vary_headers(config: &Config) -> (HeaderName, Option<HeaderName>) {
    match &config.transport {
        Transport::Cookie => (header::COOKIE, None),
        Transport::Header(name) => (name.clone(), None),
        Transport::Bearer(_) => (header::AUTHORIZATION, None),
        Transport::Both(name) => (header::COOKIE, Some(name.clone())),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{cookie::Key, test::TestRequest};

    use super::*;

    fn config(transport: Transport) -> Config {
        let mut config = Config::new(Key::generate());
        config.transport = transport;
        config
    }

    fn token(transport: Transport, headers: &[(&str, &str)]) -> (Option<String>, Carrier) {
        let mut req = TestRequest::default();
        for &(name, value) in headers {
            req = req.append_header((name, value));
        }
        let (tokens, carrier) = request_token(&config(transport), req.to_srv_request().headers());
        let first = tokens.iter().next().map(str::to_owned);
        (first, carrier)
    }

    #[test]
    fn each_transport_reads_its_own_carrier_only() {
        let both = [("cookie", "session=c"), ("x-session", "h")];
        let got = |t| token(t, &both);
        assert_eq!(got(Transport::Cookie), (Some("c".into()), Carrier::Cookie));
        assert_eq!(
            got(Transport::header()),
            (Some("h".into()), Carrier::Header)
        );
        assert_eq!(got(Transport::both()), (Some("h".into()), Carrier::Header));
        assert_eq!(got(Transport::bearer()), (None, Carrier::Header));
        let cookie_only = [("cookie", "session=c")];
        assert_eq!(
            token(Transport::header(), &cookie_only),
            (None, Carrier::Header)
        );
        assert_eq!(
            token(Transport::both(), &cookie_only),
            (Some("c".into()), Carrier::Cookie)
        );
        let empty = [("cookie", "session=c"), ("x-session", " ")];
        assert_eq!(
            token(Transport::both(), &empty),
            (None, Carrier::Header),
            "an empty header asks for a header answer"
        );
    }

    #[test]
    fn bearer_takes_only_the_bearer_scheme() {
        let got = |value| token(Transport::bearer(), &[("authorization", value)]).0;
        assert_eq!(got("Bearer abc.1~2").as_deref(), Some("abc.1~2"));
        assert_eq!(got("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(got("Basic dXNlcjpwdw=="), None);
        assert_eq!(got("Bearer "), None);
        assert_eq!(got("Bearer"), None);
    }

    #[test]
    fn header_answers_carry_the_token_itself_within_8_kib() {
        let config = config(Transport::header());
        let ttl = Duration::from_secs(60);
        assert_eq!(
            Carrier::Header.render(&config, "v.1".into(), ttl, false),
            "v.1"
        );
        assert!(Carrier::Cookie
            .render(&config, "v.1".into(), ttl, false)
            .starts_with("session=v.1; "));
        assert!(Carrier::Header.check_size(&"a".repeat(8192)).is_ok());
        assert!(matches!(
            Carrier::Header.check_size(&"a".repeat(8193)),
            Err(SaveError::TokenTooLarge {
                size: 8193,
                limit: 8192
            })
        ));
    }
}
