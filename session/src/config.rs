//! Middleware configuration: cookie attributes, TTL and its refresh policy, keys.

use std::time::Duration;

use actix_web::{
    cookie::{time, Cookie, Key, SameSite},
    http::header::HeaderName,
};

use crate::{
    clock::Clock,
    key::{SealKey, SealKeys},
    ConfigError,
};

/// Default session time to live: one day.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default cookie name.
pub(crate) const DEFAULT_COOKIE_NAME: &str = "session";
/// Default cap on one user's signed-in sessions (see `max_sessions_per_user`).
pub(crate) const DEFAULT_MAX_SESSIONS_PER_USER: usize = 100;

/// When a session's TTL is pushed forward.
///
/// Every store resets the TTL when it writes a change; the policy says what else does.
///
/// ```
/// use actix_typed_session::{store::MemoryStore, SessionMiddleware, TtlRefresh};
///
/// let key = actix_web::cookie::Key::generate();
/// let idle_timeout = SessionMiddleware::builder(MemoryStore::new(), key)
///     .refresh(TtlRefresh::OnAccess)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TtlRefresh {
    /// Only when the session is changed (the default): reading costs one store round trip
    /// and nothing else.
    #[default]
    OnUpdate,
    /// Also whenever a handler extracts the session. Server stores fold the refresh into the
    /// load's round trip; the cookie is re-issued when it is persistent.
    OnAccess,
    /// On every request that carries a valid session cookie, even when no handler looks at the
    /// session: costs a store round trip on every such request.
    OnEveryRequest,
}

/// What a sign-in records of the device it came from, for the rows of
/// [`Session::user_sessions`](crate::Session::user_sessions) (a "your sessions" page): its
/// `User-Agent` and the client's address. Server-side stores only (the cookie store keeps no
/// list, so it records nothing).
///
/// ```
/// use actix_typed_session::{store::MemoryStore, SessionMiddleware, SignInDevice};
///
/// let key = actix_web::cookie::Key::generate();
/// // Behind a reverse proxy that sets `Forwarded` or `X-Forwarded-For`:
/// let middleware = SessionMiddleware::builder(MemoryStore::new(), key)
///     .sign_in_device(SignInDevice::ForwardedFor)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInDevice {
    /// Nothing: rows carry no user agent and no address.
    Off,
    /// The `User-Agent` and the peer address of the connection (the default). Behind a
    /// reverse proxy, that is the proxy's address.
    #[default]
    Peer,
    /// The `User-Agent` and the client address the `Forwarded` or `X-Forwarded-For` header
    /// names (actix-web's `realip_remote_addr`), else the peer's. The client can write those
    /// headers: use it only behind a proxy that sets them.
    ForwardedFor,
}

/// How long the browser keeps the session cookie.
///
/// ```
/// use actix_typed_session::{store::MemoryStore, CookieLifecycle, SessionMiddleware};
///
/// let key = actix_web::cookie::Key::generate();
/// let survives_browser_restarts = SessionMiddleware::builder(MemoryStore::new(), key)
///     .cookie_lifecycle(CookieLifecycle::Persistent)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieLifecycle {
    /// No `Max-Age`: the browser drops the cookie when it closes (the default). The session
    /// still expires server-side after its TTL. A session given its own TTL
    /// ([`Session::set_ttl`](crate::Session::set_ttl), "remember me") gets a persistent cookie
    /// anyway, for as long as it lives.
    #[default]
    BrowserSession,
    /// `Max-Age` equal to the session's TTL, re-sent whenever the TTL is refreshed.
    Persistent,
}

/// Where the session token travels: in the cookie (the default), or in a request and response
/// header for API clients, mobile apps and single-page apps on another origin.
///
/// The token is the very value the cookie would carry: the signed id of a server-side session,
/// or the whole sealed session with the [`CookieStore`](crate::store::CookieStore). Forged or
/// tampered tokens are refused before any store is asked, and key rotation, the maximum
/// lifetime and TTL refreshes work as with cookies.
///
/// In header mode the middleware answers the token in the response header whenever it would
/// have set the cookie (a new session, a renewal, a re-sealed or refreshed token), answers the
/// header **empty** whenever it would have removed the cookie (purge, a token that did not
/// verify), and answers nothing for untouched requests. It never sends `Set-Cookie` and never
/// reads the `Cookie` header: a cookie is ignored, so a browser's ambient cookie cannot be
/// mixed into a header session (no CSRF, no fixation through a planted cookie).
///
/// - **CSRF:** browsers attach cookies to cross-site requests by themselves, but never a custom
///   header or `Authorization`: a header session is not exposed to cross-site request forgery.
///   No cookie means no ambient credential, so the [`Csrf`](crate::Csrf) middleware leaves
///   requests whose token came in a header unchecked unless told otherwise (with
///   [`Transport::both`], requests that carry the cookie are still checked).
/// - **XSS:** the client holds the token itself, so a script injected into a web client can
///   read it wherever the client keeps it (`localStorage`, a JS variable); `HttpOnly` cannot
///   protect it. Mobile and server clients should keep it in the platform's secure storage;
///   browser clients should prefer the cookie transport when they are on the same site.
/// - **CORS:** browsers hide response headers from scripts of other origins unless they are
///   listed in `Access-Control-Expose-Headers`: the middleware adds the header's name there
///   on every response that answers the token. Requests that *send* the header need the
///   app's CORS layer (e.g. `actix-cors`) to allow it (`Access-Control-Allow-Headers`).
/// - **Size:** a cookie-store session travels whole in the header; it may be up to
///   [`MAX_HEADER_TOKEN_BYTES`](crate::MAX_HEADER_TOKEN_BYTES) (8 KiB, the smallest
///   request-header limit of common proxies and servers) and a larger one is refused with
///   [`SaveError::TokenTooLarge`](crate::SaveError::TokenTooLarge).
/// - `Vary` names the header the token is read from instead of `Cookie`, and every response
///   that answers the token (or empties it) carries `Cache-Control: no-store` unless the app
///   set its own, so no shared cache hands one client's token to another.
///
/// A JSON API whose clients send `X-Session: <token>` and keep the one they are answered:
///
/// ```
/// use actix_web::{cookie::Key, test, web, App, HttpResponse};
/// use actix_typed_session::{store::MemoryStore, Session, SessionMiddleware, Transport};
///
/// #[derive(serde::Deserialize)]
/// struct Login {
///     user: String,
/// }
///
/// async fn login(session: Session, body: web::Json<Login>) -> actix_web::Result<HttpResponse> {
///     session.renew(); // a new token on sign-in; the old one stops working
///     session.insert("user", &body.user)?;
///     Ok(HttpResponse::Ok().json(serde_json::json!({ "user": body.user })))
/// }
///
/// async fn me(session: Session) -> actix_web::Result<HttpResponse> {
///     let user: Option<String> = session.get("user")?;
///     Ok(HttpResponse::Ok().json(serde_json::json!({ "user": user })))
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let middleware = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
///     .transport(Transport::header()) // `X-Session`
///     .build();
/// let app = test::init_service(
///     App::new()
///         .wrap(middleware)
///         .route("/login", web::post().to(login))
///         .route("/me", web::get().to(me)),
/// )
/// .await;
///
/// let req = test::TestRequest::post()
///     .uri("/login")
///     .set_json(serde_json::json!({ "user": "ferris" }))
///     .to_request();
/// let res = test::call_service(&app, req).await;
/// assert!(res.headers().get("set-cookie").is_none());
/// let token = res.headers().get("x-session").unwrap().clone();
///
/// let req = test::TestRequest::get()
///     .uri("/me")
///     .insert_header(("x-session", token))
///     .to_request();
/// let body: serde_json::Value = test::call_and_read_body_json(&app, req).await;
/// assert_eq!(body["user"], "ferris");
/// # });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The session cookie (the default).
    #[default]
    Cookie,
    /// The token in this request header, answered in the same response header
    /// ([`Transport::header`] names it `X-Session`). The cookie is ignored.
    Header(HeaderName),
    /// The token in `Authorization: Bearer <token>`, answered in this response header
    /// ([`Transport::bearer`] names it `X-Session`). The cookie is ignored.
    Bearer(HeaderName),
    /// Both: a request that carries this header (even empty) is served as
    /// [`Transport::Header`], cookie ignored; any other as [`Transport::Cookie`]. An API
    /// client that has no token yet sends the header empty to be answered in it.
    Both(HeaderName),
}

impl Transport {
    /// [`Transport::Header`] with `X-Session`.
    ///
    /// ```
    /// assert_eq!(
    ///     actix_typed_session::Transport::header(),
    ///     actix_typed_session::Transport::Header(actix_web::http::header::HeaderName::from_static("x-session"))
    /// );
    /// ```
    #[must_use]
    pub fn header() -> Self {
        Self::Header(HeaderName::from_static(DEFAULT_TOKEN_HEADER))
    }

    /// [`Transport::Bearer`] answered in `X-Session`.
    ///
    /// ```
    /// let transport = actix_typed_session::Transport::bearer();
    /// ```
    #[must_use]
    pub fn bearer() -> Self {
        Self::Bearer(HeaderName::from_static(DEFAULT_TOKEN_HEADER))
    }

    /// [`Transport::Both`] with `X-Session`.
    ///
    /// ```
    /// let transport = actix_typed_session::Transport::both();
    /// ```
    #[must_use]
    pub fn both() -> Self {
        Self::Both(HeaderName::from_static(DEFAULT_TOKEN_HEADER))
    }
}

/// The header of [`Transport::header`] (header names are compared case-insensitively).
const DEFAULT_TOKEN_HEADER: &str = "x-session";

/// The validated settings shared by the middleware and every session handle.
pub(crate) struct Config {
    pub(crate) cookie_name: String,
    pub(crate) cookie_path: String,
    pub(crate) cookie_domain: Option<String>,
    pub(crate) cookie_secure: bool,
    pub(crate) cookie_http_only: bool,
    pub(crate) cookie_same_site: SameSite,
    pub(crate) cookie_partitioned: bool,
    pub(crate) lifecycle: CookieLifecycle,
    pub(crate) ttl: Duration,
    pub(crate) refresh: TtlRefresh,
    pub(crate) max_lifetime: Option<Duration>,
    /// At most this many signed-in sessions per user: a sign-in beyond it ends the oldest.
    pub(crate) max_sessions_per_user: Option<usize>,
    pub(crate) transport: Transport,
    pub(crate) clock: Clock,
    /// The current key first, then older keys still accepted, each with its subkeys derived.
    pub(crate) keys: SealKeys,
    /// What [`cookie_attributes`](Self::cookie_attributes) renders, once.
    attributes: std::sync::OnceLock<String>,
    /// The application's credential versions, when sign-ins are bound to them.
    pub(crate) epochs: Option<crate::epoch::Epochs>,
    /// What a sign-in records of its device.
    pub(crate) sign_in_device: SignInDevice,
}

impl Config {
    pub(crate) fn new(key: Key) -> Self {
        Self {
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            cookie_path: "/".to_owned(),
            cookie_domain: None,
            cookie_secure: true,
            cookie_http_only: true,
            cookie_same_site: SameSite::Lax,
            cookie_partitioned: false,
            lifecycle: CookieLifecycle::BrowserSession,
            ttl: DEFAULT_TTL,
            refresh: TtlRefresh::OnUpdate,
            max_lifetime: None,
            max_sessions_per_user: Some(DEFAULT_MAX_SESSIONS_PER_USER),
            transport: Transport::Cookie,
            clock: Clock::system(),
            keys: SealKeys::new(&key),
            attributes: std::sync::OnceLock::new(),
            epochs: None,
            sign_in_device: SignInDevice::Peer,
        }
    }

    pub(crate) fn key(&self) -> &SealKey {
        self.keys.current()
    }

    /// The session cookie holding `value`, with the configured attributes (and a `Max-Age` of
    /// `ttl` when cookies are persistent).
    pub(crate) fn cookie(&self, value: String, ttl: Duration) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.cookie_name.clone(), value)
            .path(self.cookie_path.clone())
            .secure(self.cookie_secure)
            .http_only(self.cookie_http_only)
            .same_site(self.cookie_same_site)
            .finish();
        if let Some(domain) = &self.cookie_domain {
            cookie.set_domain(domain.clone());
        }
        if self.lifecycle == CookieLifecycle::Persistent {
            cookie.set_max_age(time::Duration::seconds(
                i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
            ));
        }
        cookie
    }

    /// The `Set-Cookie` text after `name=value`, without `Max-Age` and `Partitioned`: the same
    /// for every cookie of this configuration, so rendered once, on first use (the builder has
    /// finished by then).
    pub(crate) fn cookie_attributes(&self) -> &str {
        self.attributes.get_or_init(|| {
            let mut cookie = self.cookie(String::new(), Duration::ZERO);
            cookie.set_max_age(None);
            let rendered = cookie.to_string();
            rendered[self.cookie_name.len() + 1..].to_owned()
        })
    }

    /// Refuses settings that can never work: cookies browsers drop, and a maximum lifetime
    /// that refuses every session. Checked whatever the transport, so switching it never
    /// reveals a broken cookie.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(is_tchar) {
            return Err(ConfigError::InvalidCookieName { name: name.clone() });
        }
        let breaks_header = |text: &str| text.chars().any(|c| c == ';' || c.is_ascii_control());
        if breaks_header(&self.cookie_path) {
            return Err(ConfigError::InvalidCookieAttribute {
                attribute: "Path",
                value: self.cookie_path.clone(),
            });
        }
        if let Some(domain) = self.cookie_domain.as_deref().filter(|d| breaks_header(d)) {
            return Err(ConfigError::InvalidCookieAttribute {
                attribute: "Domain",
                value: domain.to_owned(),
            });
        }
        // Browsers match the prefixes case-insensitively.
        let prefixed = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if prefixed("__Host-") {
            let fix = if !self.cookie_secure {
                Some("set `cookie_secure(true)`")
            } else if self.cookie_domain.is_some() {
                Some("set `cookie_domain(None)`")
            } else if self.cookie_path != "/" {
                Some("set `cookie_path(\"/\")`")
            } else {
                None
            };
            if let Some(fix) = fix {
                return Err(ConfigError::HostPrefix {
                    name: name.clone(),
                    fix,
                });
            }
        }
        if prefixed("__Secure-") && !self.cookie_secure {
            return Err(ConfigError::SecurePrefixWithoutSecure { name: name.clone() });
        }
        if self.cookie_same_site == SameSite::None && !self.cookie_secure {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }
        if self.cookie_partitioned && !self.cookie_secure {
            return Err(ConfigError::PartitionedWithoutSecure);
        }
        if let Some(max) = self.max_lifetime.filter(|max| max.as_secs() == 0) {
            return Err(ConfigError::MaxLifetimeUnderOneSecond { max });
        }
        if self.max_sessions_per_user == Some(0) {
            return Err(ConfigError::NoSessionPerUser);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Config {
    // Keys are secrets: show how many there are, never their bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_path", &self.cookie_path)
            .field("cookie_domain", &self.cookie_domain)
            .field("cookie_secure", &self.cookie_secure)
            .field("cookie_http_only", &self.cookie_http_only)
            .field("cookie_same_site", &self.cookie_same_site)
            .field("cookie_partitioned", &self.cookie_partitioned)
            .field("lifecycle", &self.lifecycle)
            .field("ttl", &self.ttl)
            .field("refresh", &self.refresh)
            .field("max_lifetime", &self.max_lifetime)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .field("transport", &self.transport)
            .field("keys", &self.keys.len())
            .field("epochs", &self.epochs.is_some())
            .field("sign_in_device", &self.sign_in_device)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(change: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
        let mut config = Config::new(Key::generate());
        change(&mut config);
        config.validate()
    }

    #[test]
    fn the_defaults_and_sound_settings_pass() {
        assert_eq!(checked(|_| {}), Ok(()));
        assert_eq!(
            checked(|c| {
                c.cookie_name = "__Host-session".into();
                c.cookie_same_site = SameSite::None;
                c.cookie_partitioned = true;
                c.max_lifetime = Some(Duration::from_secs(1));
            }),
            Ok(())
        );
        assert_eq!(
            checked(|c| {
                c.cookie_name = "__Secure-sid".into();
                c.cookie_domain = Some("example.com".into());
                c.cookie_path = "/app".into();
            }),
            Ok(())
        );
        assert_eq!(checked(|c| c.cookie_secure = false), Ok(()), "local HTTP");
    }

    #[test]
    fn same_site_none_needs_secure() {
        let err = checked(|c| {
            c.cookie_same_site = SameSite::None;
            c.cookie_secure = false;
        });
        assert_eq!(err, Err(ConfigError::SameSiteNoneWithoutSecure));
    }

    #[test]
    fn partitioned_needs_secure() {
        let err = checked(|c| {
            c.cookie_partitioned = true;
            c.cookie_secure = false;
        });
        assert_eq!(err, Err(ConfigError::PartitionedWithoutSecure));
    }

    #[test]
    fn a_host_prefix_needs_secure_no_domain_and_the_root_path() {
        let host = |change: fn(&mut Config)| {
            checked(|c| {
                c.cookie_name = "__host-sid".into(); // prefixes match case-insensitively
                change(c);
            })
        };
        let fix = |result: Result<(), ConfigError>| match result {
            Err(ConfigError::HostPrefix { fix, .. }) => fix,
            other => panic!("{other:?}"),
        };
        assert!(fix(host(|c| c.cookie_domain = Some("example.com".into()))).contains("domain"));
        assert!(fix(host(|c| c.cookie_path = "/app".into())).contains("path"));
        assert!(fix(host(|c| c.cookie_secure = false)).contains("secure"));
        assert_eq!(host(|_| {}), Ok(()));
    }

    #[test]
    fn a_secure_prefix_needs_secure() {
        let err = checked(|c| {
            c.cookie_name = "__Secure-sid".into();
            c.cookie_secure = false;
        });
        assert_eq!(
            err,
            Err(ConfigError::SecurePrefixWithoutSecure {
                name: "__Secure-sid".into()
            })
        );
    }

    #[test]
    fn a_maximum_lifetime_under_a_second_is_refused() {
        for max in [Duration::ZERO, Duration::from_millis(999)] {
            assert_eq!(
                checked(|c| c.max_lifetime = Some(max)),
                Err(ConfigError::MaxLifetimeUnderOneSecond { max })
            );
        }
    }

    #[test]
    fn cookie_names_and_attributes_must_fit_the_header() {
        for name in ["", "a b", "a=b", "a;b", "sé", "a\"b", "a,b"] {
            assert_eq!(
                checked(|c| c.cookie_name = name.into()),
                Err(ConfigError::InvalidCookieName { name: name.into() }),
                "{name:?}"
            );
        }
        assert!(matches!(
            checked(|c| c.cookie_path = "/a;b".into()),
            Err(ConfigError::InvalidCookieAttribute {
                attribute: "Path",
                ..
            })
        ));
        assert!(matches!(
            checked(|c| c.cookie_domain = Some("a.com\n".into())),
            Err(ConfigError::InvalidCookieAttribute {
                attribute: "Domain",
                ..
            })
        ));
    }
}
