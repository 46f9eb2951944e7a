//! The session cookie's wire format: finding it in a request, what it carries ([`Meta`]),
//! signing and verifying a server-side cookie, and rendering `Set-Cookie` and its removal.
//!
//! One invariant ties [`find_cookie`] and [`set_cookie_text`] together: every value the library
//! sets is base64 (standard or URL-safe) plus `.`, `~` and digits, all legal cookie octets
//! (RFC 6265), and none contains `%`. So values are set unencoded (their sizes are exact), and a
//! `%` in an incoming value can only come from a client that percent-encoded it, which is then
//! decoded unambiguously.

pub(crate) mod seal;

use std::{borrow::Cow, time::Duration};

use actix_web::{
    cookie::Cookie,
    http::header::{self, HeaderMap},
};
use percent_encoding::percent_decode_str;

use crate::{
    config::{Config, CookieLifecycle},
    key::Purpose,
    observe::{self, Refusal},
    SaveError, SessionId,
};

/// What a session cookie told us, before any store is asked.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    /// A verified id (server-side stores).
    Id {
        id: SessionId,
        meta: Meta,
        stale_key: bool,
    },
    /// A sealed session (cookie store), opened on first load from the raw cookie.
    Sealed,
}

/// Session facts carried in the (authenticated) cookie itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Unix seconds when the session was created; kept across renewals.
    pub(crate) created: u64,
    /// The session's TTL.
    pub(crate) ttl: Duration,
    /// The session has a TTL of its own ("remember me", `Session::set_ttl`): its cookie is
    /// persistent (`Max-Age` = TTL) whatever the configured lifecycle. Written as a `p` after
    /// the TTL, so cookies issued before the flag existed read as false.
    pub(crate) own_ttl: bool,
}

/// Longest TTL accepted from a cookie: anything beyond is a forgery or a bug.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(10 * 366 * 24 * 60 * 60);

impl Meta {
    /// Appends `created.ttl`, the TTL followed by `p` when the session has its own: the tail of
    /// a server-side cookie's plain text and the middle of a cookie-store payload. (Written by
    /// hand: this runs on every response that sets a cookie, and `format!` cost more than the
    /// rest of it.)
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(itoa::Buffer::new().format(self.created).as_bytes());
        out.push(b'.');
        out.extend_from_slice(itoa::Buffer::new().format(self.ttl.as_secs()).as_bytes());
        if self.own_ttl {
            out.push(b'p');
        }
    }

    /// [`write`](Self::write)'s text as a string.
    fn encode(&self) -> String {
        let mut text = Vec::with_capacity(32);
        self.write(&mut text);
        // Digits, `.` and `p`: always UTF-8.
        String::from_utf8(text).unwrap_or_default()
    }

    /// A TTL as [`write`](Self::write) puts it: its seconds, and whether the session has its
    /// own.
    pub(crate) fn parse_ttl(text: &str) -> Option<(u64, bool)> {
        let (secs, own) = match text.strip_suffix('p') {
            Some(secs) => (secs, true),
            None => (text, false),
        };
        Some((secs.parse().ok()?, own))
    }

    fn decode(created: &str, ttl: &str) -> Option<Self> {
        let (ttl, own_ttl) = Self::parse_ttl(ttl)?;
        Some(Self::from_parts(created.parse().ok()?, ttl)?.with_own_ttl(own_ttl))
    }

    /// Checks facts read from a cookie: a TTL of zero or over ten years is refused.
    pub(crate) fn from_parts(created: u64, ttl_secs: u64) -> Option<Self> {
        let ttl = Duration::from_secs(ttl_secs);
        (!ttl.is_zero() && ttl <= MAX_TTL).then_some(Self {
            created,
            ttl,
            own_ttl: false,
        })
    }

    #[must_use]
    pub(crate) fn with_own_ttl(mut self, own_ttl: bool) -> Self {
        self.own_ttl = own_ttl;
        self
    }
}

/// Largest `Set-Cookie` browsers are guaranteed to keep (RFC 6265 §6.1), counting name, value
/// and attributes.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// Refuses a `Set-Cookie` that browsers would silently drop.
pub(crate) fn check_size(set_cookie: &str) -> Result<(), SaveError> {
    let size = set_cookie.len();
    if size > MAX_COOKIE_BYTES {
        return Err(SaveError::CookieTooLarge {
            size,
            limit: MAX_COOKIE_BYTES,
        });
    }
    Ok(())
}

/// The facts an authentic cookie carries about its session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CookieFacts {
    pub(crate) meta: Meta,
    /// Sealed with an older key: re-seal with the current one.
    pub(crate) stale_key: bool,
}

/// The session tokens a request presents, in the order it sends them: usually none or one.
///
/// A browser sends several cookies of one name when they differ in `Path` or `Domain` (a
/// sibling subdomain can plant one with a longer `Path`, which browsers send first). Each is
/// tried in order and the first that verifies is the session, so a planted cookie can neither
/// hide the real one nor have it removed. The work is one check per cookie, bounded by the
/// request's header size.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    first: Option<String>,
    /// Empty (no allocation) in the common case of one token.
    rest: Vec<String>,
}

impl Tokens {
    /// At most one token (a header transport carries one).
    pub(crate) fn one(token: Option<String>) -> Self {
        Self {
            first: token,
            rest: Vec::new(),
        }
    }

    /// True when the request presented no token.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The tokens, in the request's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.first
            .as_deref()
            .into_iter()
            .chain(self.rest.iter().map(String::as_str))
    }
}

impl<S: Into<String>> FromIterator<S> for Tokens {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        Self {
            first: iter.next().map(Into::into),
            rest: iter.map(Into::into).collect(),
        }
    }
}

/// The values of every session cookie of the request, in order (their sizes and signatures
/// are checked when the session first needs them).
pub(crate) fn session_cookies(headers: &HeaderMap, name: &str) -> Tokens {
    find_cookies(headers, name).map(Cow::into_owned).collect()
}

/// The values of the cookies called `name` in the request's `Cookie` headers, in order. An
/// empty value (what a removal leaves behind in a client that keeps it) is no cookie at all.
///
/// A direct scan rather than `HttpRequest::cookie`, which parses and percent-decodes every
/// cookie of every request. Percent-decoding happens only when a `%` is present: see the module
/// docs for why that is unambiguous.
fn find_cookies<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    headers
        .get_all(header::COOKIE)
        .filter_map(|header| std::str::from_utf8(header.as_bytes()).ok())
        .flat_map(move |text| {
            // Each place the name occurs (a fast substring search), if it starts a pair.
            text.match_indices(name).filter_map(move |(at, _)| {
                let before = text[..at].trim_end_matches([' ', '\t']);
                if !(before.is_empty() || before.ends_with(';')) {
                    return None;
                }
                let rest = text[at + name.len()..].trim_start_matches([' ', '\t']);
                let value = rest.strip_prefix('=')?;
                Some(value.split(';').next().unwrap_or_default().trim())
            })
        })
        .filter(|value| !value.is_empty())
        .map(|value| {
            if value.contains('%') {
                percent_decode_str(value).decode_utf8_lossy()
            } else {
                Cow::Borrowed(value)
            }
        })
}

/// The value of a server-side session cookie (the signed id and facts): what the cookie
/// carries, or a header when the transport is one.
pub(crate) fn server_token(config: &Config, id: &SessionId, meta: Meta) -> String {
    let plain = format!("{id}.{}", meta.encode());
    seal::seal(
        Purpose::ServerCookie,
        config.key(),
        &config.cookie_name,
        plain,
    )
}

/// Parses a server-side session cookie. `None` (logged at warn) for anything not issued by us
/// with one of the accepted keys, or past the maximum lifetime.
///
/// Every request verifies its cookie (one HMAC-SHA256 over about 100 bytes): a memory of
/// verified cookies was measured to cost more than it saved once requests carry many distinct
/// sessions (see the README's benchmarks).
pub(crate) fn parse_server_cookie(config: &Config, value: &str) -> Option<Incoming> {
    let incoming = verify_server_cookie(config, value)?;
    match &incoming {
        Incoming::Id { meta, .. } if past_max_lifetime(config, meta.created) => None,
        _ => Some(incoming),
    }
}

/// The signature check and parse behind [`parse_server_cookie`].
fn verify_server_cookie(config: &Config, value: &str) -> Option<Incoming> {
    let Some((plain, stale_key)) = seal::open(
        Purpose::ServerCookie,
        &config.keys,
        &config.cookie_name,
        value,
    ) else {
        tracing::warn!("session cookie rejected: bad signature or malformed");
        observe::refused(Refusal::BadSignature);
        return None;
    };
    let mut parts = plain.split('.');
    let parsed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(created), Some(ttl), None) => {
            SessionId::try_from(id).ok().zip(Meta::decode(created, ttl))
        }
        _ => None,
    };
    let Some((id, meta)) = parsed else {
        tracing::warn!("session cookie rejected: authentic but malformed");
        observe::refused(Refusal::Malformed);
        return None;
    };
    Some(Incoming::Id {
        id,
        meta,
        stale_key,
    })
}

/// True (logged at warn: the cookie is then refused) for a session created longer ago than
/// the maximum lifetime.
pub(crate) fn past_max_lifetime(config: &Config, created: u64) -> bool {
    let past = config
        .max_lifetime
        .is_some_and(|max| config.clock.unix_secs().saturating_sub(created) >= max.as_secs());
    if past {
        tracing::warn!("session cookie rejected: past the maximum session lifetime");
        observe::expired();
    }
    past
}

/// The `Set-Cookie` header text for `cookie` of `config`: exactly what is sent, and what size
/// checks measure. `Partitioned` is appended by hand (the cookie crate actix uses has no such
/// attribute).
///
/// Not percent-encoded: every value the library makes is base64 (standard or URL-safe) plus
/// `.`, `~` and digits, all legal cookie octets (RFC 6265), and none contains `%`, so the
/// percent-decoding actix applies to incoming cookies gives them back unchanged. Encoding
/// would turn each `/` and `=` of the ciphertext into three bytes, at random.
pub(crate) fn set_cookie_header(config: &Config, cookie: &Cookie<'_>) -> String {
    let mut text = cookie.to_string();
    if config.cookie_partitioned {
        text.push_str(PARTITIONED);
    }
    text
}

/// The CHIPS attribute, last in the header.
const PARTITIONED: &str = "; Partitioned";

/// What [`set_cookie_header`] gives for `config.cookie(value, ttl)` (with `own_ttl`,
/// a session with a TTL of its own, a `Max-Age` whatever the lifecycle), without building
/// a `Cookie` per response: the attributes after the value are the same for every cookie of a
/// configuration, so the cookie crate renders them once, and only `Max-Age` (which the crate
/// writes last when no `Expires` is set) varies. A test holds the two equal.
pub(crate) fn set_cookie_text(
    config: &Config,
    value: &str,
    ttl: Duration,
    own_ttl: bool,
) -> String {
    let attributes = config.cookie_attributes();
    let mut text =
        String::with_capacity(config.cookie_name.len() + value.len() + attributes.len() + 32);
    text.push_str(&config.cookie_name);
    text.push('=');
    text.push_str(value);
    text.push_str(attributes);
    if own_ttl || config.lifecycle == CookieLifecycle::Persistent {
        use std::fmt::Write as _;
        let secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let _ = write!(text, "; Max-Age={secs}");
    }
    if config.cookie_partitioned {
        text.push_str(PARTITIONED);
    }
    text
}

/// A cookie that makes the browser drop the session cookie: same name, path and domain.
pub(crate) fn removal_cookie(config: &Config) -> Cookie<'static> {
    let mut cookie = config.cookie(String::new(), Duration::ZERO);
    cookie.make_removal();
    cookie
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn set_cookie_text_is_what_the_cookie_crate_renders() {
        use actix_web::cookie::{Key, SameSite};
        let ttls = [Duration::from_secs(1), Duration::from_secs(86_400)];
        for persistent in [false, true] {
            for domain in [None, Some("example.com")] {
                for (secure, http_only) in [(true, true), (false, false), (true, false)] {
                    for (same_site, partitioned) in [
                        (SameSite::Lax, false),
                        (SameSite::Strict, false),
                        (SameSite::None, false),
                        (SameSite::None, true),
                    ] {
                        let mut config = Config::new(Key::generate());
                        config.cookie_partitioned = partitioned;
                        config.cookie_name = "sid".into();
                        config.cookie_path = "/app".into();
                        config.cookie_domain = domain.map(Into::into);
                        config.cookie_secure = secure;
                        config.cookie_http_only = http_only;
                        config.cookie_same_site = same_site;
                        if persistent {
                            config.lifecycle = CookieLifecycle::Persistent;
                        }
                        for ttl in ttls {
                            let cookie = config.cookie("v.1~a".into(), ttl);
                            let expected = set_cookie_header(&config, &cookie);
                            assert_eq!(set_cookie_text(&config, "v.1~a", ttl, false), expected);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn partitioned_cookies_and_their_removals_say_so() {
        let mut config = Config::new(actix_web::cookie::Key::generate());
        config.cookie_partitioned = true;
        let set = set_cookie_text(&config, "v.1~a", Duration::from_secs(60), true);
        assert!(set.ends_with("; Max-Age=60; Partitioned"), "{set}");
        let removal = set_cookie_header(&config, &removal_cookie(&config));
        assert!(removal.ends_with("; Partitioned"), "{removal}");
        config.cookie_partitioned = false;
        let plain = set_cookie_header(&config, &removal_cookie(&config));
        assert!(!plain.contains("Partitioned"), "{plain}");
    }

    #[test]
    fn server_cookies_verify_and_forgeries_do_not() {
        use actix_web::cookie::Key;
        struct Middleware {
            config: Config,
        }
        let shared = |key: &Key| Middleware {
            config: Config::new(key.clone()),
        };
        let key = Key::generate();
        let ours = shared(&key);
        let id = SessionId::generate();
        let meta = Meta::from_parts(crate::clock::Clock::system().unix_secs(), 60).unwrap();
        let value = server_token(&ours.config, &id, meta);
        let expect = |incoming: Option<Incoming>| match incoming {
            Some(Incoming::Id {
                id: got,
                meta: got_meta,
                stale_key: false,
            }) => got == id && got_meta == meta,
            _ => false,
        };
        assert!(
            expect(parse_server_cookie(&ours.config, &value)),
            "first sight"
        );
        assert!(expect(parse_server_cookie(&ours.config, &value)), "again");
        for at in [0, 20, value.len() - 1] {
            let mut forged = value.clone().into_bytes();
            forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            assert!(
                parse_server_cookie(&ours.config, &forged).is_none(),
                "byte {at}"
            );
        }
        assert!(parse_server_cookie(&ours.config, &value[..value.len() - 1]).is_none());
        let other = shared(&Key::generate());
        assert!(
            parse_server_cookie(&other.config, &value).is_none(),
            "other keys"
        );
    }

    #[test]
    fn meta_refuses_nonsense() {
        assert!(Meta::decode("1", "0").is_none());
        assert!(Meta::decode("x", "10").is_none());
        assert!(Meta::decode("1", "99999999999").is_none());
        assert_eq!(
            Meta::decode("5", "10"),
            Some(Meta {
                created: 5,
                ttl: Duration::from_secs(10),
                own_ttl: false,
            })
        );
        assert_eq!(Meta::decode("5", "10p").map(|m| m.own_ttl), Some(true));
        assert!(Meta::decode("5", "p").is_none());
        assert_eq!(
            Meta::from_parts(5, 10).unwrap().with_own_ttl(true).encode(),
            "5.10p"
        );
    }

    #[test]
    fn finds_exactly_the_named_cookies_in_order() {
        let found = |headers: &[&str]| {
            let mut req = TestRequest::default();
            for &value in headers {
                req = req.append_header((header::COOKIE, value));
            }
            let req = req.to_srv_request();
            find_cookies(req.headers(), "session")
                .map(Cow::into_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(found(&["xsession=no; a=1;session=yes=="]), ["yes=="]);
        assert_eq!(found(&["a=1", " session = v ; b=2"]), ["v"]);
        assert_eq!(found(&["session=a%2Fb%3D"]), ["a/b="]);
        assert!(found(&["sessions=1; session"]).is_empty());
        assert_eq!(
            found(&["a=session=x; b=my session=y;\tsession\t= ok\t"]),
            ["ok"]
        );
        assert!(
            found(&["session="]).is_empty(),
            "an empty value is no cookie"
        );
        assert!(found(&[]).is_empty());
        assert_eq!(
            found(&["session=tossed; a=1; session=", "session=real"]),
            ["tossed", "real"],
            "every one, in order, empty ones left out"
        );
    }

    #[test]
    fn tokens_keep_their_order() {
        let tokens: Tokens = ["a", "b", "c"].into_iter().collect();
        assert_eq!(tokens.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(!tokens.is_empty());
        assert!(Tokens::one(None).is_empty());
        assert!(std::iter::empty::<String>().collect::<Tokens>().is_empty());
    }
}
