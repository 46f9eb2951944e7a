//! Middleware configuration: cookie attributes, TTL and its refresh policy, keys.

use std::time::Duration;

use actix_web::cookie::{Key, SameSite};

use crate::cookie::seal::{SealKey, SealKeys};

/// Default session time to live: one day.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default cookie name.
pub const DEFAULT_COOKIE_NAME: &str = "session";

/// When a session's TTL is pushed forward.
///
/// Every store resets the TTL when it writes a change; the policy says what else does.
///
/// ```
/// use session::{store::MemoryStore, SessionMiddleware, TtlRefresh};
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

/// How long the browser keeps the session cookie.
///
/// ```
/// use session::{store::MemoryStore, CookieLifecycle, SessionMiddleware};
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

/// The validated settings shared by the middleware and every session handle.
pub(crate) struct Config {
    pub(crate) cookie_name: String,
    pub(crate) cookie_path: String,
    pub(crate) cookie_domain: Option<String>,
    pub(crate) cookie_secure: bool,
    pub(crate) cookie_http_only: bool,
    pub(crate) cookie_same_site: SameSite,
    pub(crate) lifecycle: CookieLifecycle,
    pub(crate) ttl: Duration,
    pub(crate) refresh: TtlRefresh,
    pub(crate) max_lifetime: Option<Duration>,
    /// The current key first, then older keys still accepted, each with its subkeys derived.
    pub(crate) keys: SealKeys,
    /// The `Set-Cookie` attributes after the value, rendered once on first use (the builder
    /// has finished by then): see `session::set_cookie_text`.
    pub(crate) attributes: std::sync::OnceLock<String>,
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
            lifecycle: CookieLifecycle::BrowserSession,
            ttl: DEFAULT_TTL,
            refresh: TtlRefresh::OnUpdate,
            max_lifetime: None,
            keys: SealKeys::new(&key),
            attributes: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn key(&self) -> &SealKey {
        self.keys.current()
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
            .field("lifecycle", &self.lifecycle)
            .field("ttl", &self.ttl)
            .field("refresh", &self.refresh)
            .field("max_lifetime", &self.max_lifetime)
            .field("keys", &self.keys.len())
            .finish()
    }
}
