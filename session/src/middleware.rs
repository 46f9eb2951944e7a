//! `SessionMiddleware`: reads the cookie, hands out lazy sessions, writes back what changed.

use std::{
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
    time::Duration,
};

use actix_service::{forward_ready, Service, Transform};
use actix_web::{
    body::{EitherBody, MessageBody},
    cookie::{Key, SameSite},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderMap, HeaderValue},
    HttpMessage,
};
use futures_util::future::LocalBoxFuture;

use crate::{
    config::Transport,
    config::{Config, CookieLifecycle, TtlRefresh},
    cookie::{removal_cookie, set_cookie_header},
    error::SaveError,
    session::{Backend, RequestSlot, Storage, TokenUpdate},
    store::{CookieStore, SessionStore},
    transport::{answer_header, vary_headers, Carrier},
};

/// The store behind a [`SessionMiddleware`]: any [`SessionStore`], or the [`CookieStore`].
///
/// You never name this type: pass your store to [`SessionMiddleware::new`].
pub struct SessionStorage(Storage);

impl std::fmt::Debug for SessionStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStorage")
    }
}

impl<S: SessionStore> From<S> for SessionStorage {
    fn from(store: S) -> Self {
        Self(Storage::Server(Arc::new(store)))
    }
}

impl From<CookieStore> for SessionStorage {
    fn from(store: CookieStore) -> Self {
        Self(Storage::Cookie(Arc::new(store)))
    }
}

/// Middleware that gives every request a lazy [`Session`](crate::Session) and saves what
/// handlers changed.
///
/// Until something asks for the session it does no work at all: the cookie is read and verified
/// when a handler first takes the session, and loaded from the store by the first extraction
/// (or [`Session::load`](crate::Session::load)). After the handler it writes only the changes
/// (nothing if the session was untouched), sets or removes the cookie, and adds `Vary: Cookie`
/// when the session was read. A 5xx response saves nothing (except the removal of stale typed
/// values it met: see `SessionData`); a failed save turns the response into an opaque 500, or a
/// 503 with `Retry-After` when the store is down or timed out ([`StoreError`](crate::StoreError)
/// says more).
///
/// With a header [`Transport`] the token travels in a header instead of the cookie.
///
/// ```
/// use actix_web::{cookie::Key, App};
/// use actix_typed_session::{store::MemoryStore, SessionMiddleware, TtlRefresh};
/// use std::time::Duration;
///
/// let key = Key::generate(); // load it from your secrets in production
/// let app = App::new().wrap(
///     SessionMiddleware::builder(MemoryStore::new(), key)
///         .cookie_name("sid")
///         .ttl(Duration::from_secs(3600))
///         .refresh(TtlRefresh::OnAccess)
///         .build(),
/// );
/// ```
#[derive(Debug, Clone)]
pub struct SessionMiddleware {
    shared: Arc<Backend>,
}

impl SessionMiddleware {
    /// Creates the middleware with the documented defaults (see [`SessionMiddlewareBuilder`]).
    ///
    /// `key` signs the session cookie (and encrypts it with the [`CookieStore`]); keep it
    /// secret and stable across restarts, or every session is lost.
    pub fn new(store: impl Into<SessionStorage>, key: Key) -> Self {
        Self::builder(store, key).build()
    }

    /// What its sessions share: settings and store (for `testing::mint_cookie`).
    #[cfg(feature = "testing")]
    pub(crate) fn backend(&self) -> &Backend {
        &self.shared
    }

    /// Creates a builder to change the defaults.
    pub fn builder(store: impl Into<SessionStorage>, key: Key) -> SessionMiddlewareBuilder {
        SessionMiddlewareBuilder {
            config: Config::new(key),
            storage: store.into().0,
            import: None,
        }
    }
}

/// Builds a [`SessionMiddleware`]. Every setting has a default:
///
/// | setting | default |
/// |---|---|
/// | cookie name | `session` |
/// | path | `/` |
/// | domain | none (host-only) |
/// | `Secure` | on |
/// | `HttpOnly` | on |
/// | `SameSite` | `Lax` |
/// | `Partitioned` | off |
/// | lifecycle | [`CookieLifecycle::BrowserSession`] |
/// | TTL | one day |
/// | refresh | [`TtlRefresh::OnUpdate`] |
/// | maximum lifetime | none |
/// | previous keys | none |
/// | transport | [`Transport::Cookie`] |
///
/// ```
/// use std::time::Duration;
/// use actix_web::cookie::{Key, SameSite};
/// use actix_typed_session::{store::MemoryStore, CookieLifecycle, SessionMiddleware, TtlRefresh};
///
/// # let (current, retired) = (Key::generate(), Key::generate());
/// let middleware = SessionMiddleware::builder(MemoryStore::new(), current)
///     .cookie_name("sid")
///     .cookie_path("/")
///     .cookie_domain(Some("example.com".into()))
///     .cookie_secure(true)
///     .cookie_http_only(true)
///     .cookie_same_site(SameSite::Strict)
///     .cookie_lifecycle(CookieLifecycle::Persistent)
///     .ttl(Duration::from_secs(8 * 3600))
///     .refresh(TtlRefresh::OnAccess)
///     .max_lifetime(Some(Duration::from_secs(7 * 24 * 3600)))
///     .previous_keys([retired])
///     .build();
/// ```
#[must_use]
pub struct SessionMiddlewareBuilder {
    config: Config,
    storage: Storage,
    import: Option<crate::ActixSessionImport>,
}

impl std::fmt::Debug for SessionMiddlewareBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddlewareBuilder")
            .field("config", &self.config)
            .field("import", &self.import)
            .finish_non_exhaustive()
    }
}

impl SessionMiddlewareBuilder {
    /// Sets the cookie's name.
    ///
    /// Prefer `__Host-session` on an HTTPS site that needs no `Domain`: browsers then accept
    /// the cookie only when it is `Secure`, host-only and `Path=/`, and refuse it from plain
    /// HTTP and from sibling subdomains, so no other site can plant or overwrite it. A
    /// `__Secure-` name only requires `Secure`. [`try_build`](Self::try_build) refuses the
    /// settings such a name rules out.
    ///
    /// ```
    /// use actix_typed_session::{store::MemoryStore, SessionMiddleware};
    ///
    /// let key = actix_web::cookie::Key::generate();
    /// let middleware = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .cookie_name("__Host-session") // Secure and Path=/ are the defaults
    ///     .build();
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.config.cookie_name = name.into();
        self
    }

    /// Sets the cookie's `Path`.
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.config.cookie_path = path.into();
        self
    }

    /// Sets the cookie's `Domain`; `None` makes it host-only.
    pub fn cookie_domain(mut self, domain: Option<String>) -> Self {
        self.config.cookie_domain = domain;
        self
    }

    /// Sets whether the cookie is `Secure` (sent over HTTPS only). Browsers refuse a `Secure`
    /// cookie over plain HTTP (most make an exception for `localhost`), so there every request
    /// starts a new session. Turn it off only for local development over plain HTTP.
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.config.cookie_secure = secure;
        self
    }

    /// Sets whether the cookie is `HttpOnly` (hidden from scripts).
    pub fn cookie_http_only(mut self, http_only: bool) -> Self {
        self.config.cookie_http_only = http_only;
        self
    }

    /// Sets the cookie's `SameSite`.
    pub fn cookie_same_site(mut self, same_site: SameSite) -> Self {
        self.config.cookie_same_site = same_site;
        self
    }

    /// Sets whether the cookie is `Partitioned` (CHIPS): a browser keeps a separate cookie per
    /// top-level site, for an app embedded in other sites' pages (an iframe), where
    /// browsers that block third-party cookies would otherwise send none. Needs `Secure`
    /// (and, to be sent in such an embed at all, `SameSite::None`). Off by default.
    ///
    /// ```
    /// use actix_web::cookie::SameSite;
    /// use actix_typed_session::{store::MemoryStore, SessionMiddleware};
    ///
    /// let key = actix_web::cookie::Key::generate();
    /// let embedded_widget = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .cookie_same_site(SameSite::None)
    ///     .cookie_partitioned(true)
    ///     .build();
    /// ```
    pub fn cookie_partitioned(mut self, partitioned: bool) -> Self {
        self.config.cookie_partitioned = partitioned;
        self
    }

    /// Browser-session or persistent cookie.
    pub fn cookie_lifecycle(mut self, lifecycle: CookieLifecycle) -> Self {
        self.config.lifecycle = lifecycle;
        self
    }

    /// Sets the default TTL of new sessions (each session can change its own with
    /// [`Session::set_ttl`](crate::Session::set_ttl)). Clamped between one second and ten years
    /// (the longest TTL a session cookie may carry), so no setting makes sessions unreadable.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = ttl.clamp(Duration::from_secs(1), crate::cookie::MAX_TTL);
        self
    }

    /// Sets when the TTL is pushed forward.
    pub fn refresh(mut self, refresh: TtlRefresh) -> Self {
        self.config.refresh = refresh;
        self
    }

    /// Sets where the session token travels: the cookie, or a header for API clients. Read
    /// [`Transport`] for what header mode means for CSRF, XSS, CORS and the cookie store's
    /// size limit.
    ///
    /// ```
    /// use actix_typed_session::{store::MemoryStore, SessionMiddleware, Transport};
    ///
    /// let key = actix_web::cookie::Key::generate();
    /// let api = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .transport(Transport::header()) // `X-Session` requests and responses
    ///     .build();
    /// ```
    pub fn transport(mut self, transport: Transport) -> Self {
        self.config.transport = transport;
        self
    }

    /// At most `max` signed-in sessions per user (100 by default; `None` for no cap): a
    /// sign-in that would make one more ends that user's oldest sessions (by sign-in time)
    /// after listing its own. Bounds what one password can pile up, and so the work of
    /// listing a user's sessions and of "log out everywhere". Server-side stores that list
    /// users only; `Some(0)` is refused at build time.
    ///
    /// ```
    /// use actix_typed_session::{store::MemoryStore, SessionMiddleware};
    ///
    /// let key = actix_web::cookie::Key::generate();
    /// let middleware = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .max_sessions_per_user(Some(10)) // a phone, a laptop, …: the 11th sign-in ends the 1st
    ///     .build();
    /// ```
    pub fn max_sessions_per_user(mut self, max: Option<usize>) -> Self {
        self.config.max_sessions_per_user = max;
        self
    }

    /// Sets what a sign-in records of its device for the user's list of sessions: by default its
    /// `User-Agent` and the connection's peer address ([`SignInDevice`](crate::SignInDevice)).
    pub fn sign_in_device(mut self, device: crate::SignInDevice) -> Self {
        self.config.sign_in_device = device;
        self
    }

    /// Binds every sign-in to the user's credential version, as Django's session auth hash
    /// does: `current(user)` answers the version now (anything that changes when the
    /// credentials do: the password hash, a counter bumped by "log out everywhere"), or `None`
    /// for a user that no longer exists. Off unless called.
    ///
    /// - A sign-in records a digest of the version: the one handed to
    ///   [`Session::sign_in_with_epoch`](crate::Session::sign_in_with_epoch), or for
    ///   [`Session::sign_in`](crate::Session::sign_in) the one `current` answers when the
    ///   sign-in is saved. The session keeps a SHA-256 digest, never the version itself.
    /// - Every load of a signed-in session calls `current` with the user's
    ///   [canonical id](crate::Session::user) and compares. A session whose version no longer
    ///   matches (or whose user is gone, or that was signed in without a version, before this
    ///   setting) is signed out: the request sees an anonymous session, the old session is
    ///   deleted and its cookie removed.
    /// - An error of `current` fails the load with a 503 (the session cannot be vouched for).
    ///
    /// So changing the version signs out every session of the user, on every store, the
    /// [`CookieStore`](crate::store::CookieStore) included, and a renewal racing a
    /// [`sign_out_everywhere`](crate::Session::sign_out_everywhere) (whose new id the store may
    /// list too late) is signed out at its next request: bump the version, then sign out
    /// everywhere. `current` runs on every request that loads a signed-in session: keep it
    /// cheap (a cached column, say).
    ///
    /// ```
    /// use std::{collections::HashMap, sync::{Arc, Mutex}};
    /// use actix_typed_session::{store::MemoryStore, SessionMiddleware};
    ///
    /// // Each user's password-change counter (a column of the users table, in an app).
    /// let versions: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    /// let key = actix_web::cookie::Key::generate();
    /// let middleware = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .credential_epoch(move |user: String| {
    ///         let version = versions.lock().unwrap().get(&user).map(u64::to_string);
    ///         async move { Ok::<_, std::convert::Infallible>(version) }
    ///     })
    ///     .build();
    /// ```
    pub fn credential_epoch<F, Fut, V, E>(mut self, current: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Option<V>, E>> + Send + 'static,
        V: AsRef<[u8]>,
        E: Into<crate::BoxError>,
    {
        self.config.epochs = Some(crate::epoch::Epochs::new(current));
        self
    }

    /// Sets an absolute maximum lifetime from the session's creation, whatever its refreshes (at
    /// least one second: lifetimes count whole seconds).
    pub fn max_lifetime(mut self, max: Option<Duration>) -> Self {
        self.config.max_lifetime = max;
        self
    }

    /// Accepts the sessions of an actix-session 0.11 app during a switch: read
    /// [`ActixSessionImport`](crate::ActixSessionImport). Off unless called.
    ///
    /// ```
    /// use actix_typed_session::{store::MemoryStore, ActixSessionImport, SessionMiddleware};
    ///
    /// let old_key = actix_web::cookie::Key::generate();
    /// let middleware = SessionMiddleware::builder(MemoryStore::new(), actix_web::cookie::Key::generate())
    ///     .import_actix_session(ActixSessionImport::cookie_store(old_key).cookie_name("id").private())
    ///     .build();
    /// ```
    pub fn import_actix_session(mut self, import: crate::ActixSessionImport) -> Self {
        self.import = Some(import);
        self
    }

    /// Older keys that still open cookies (key rotation). Cookies they open are re-sealed with
    /// the current key on the next write.
    pub fn previous_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.config.keys.truncate(1);
        self.config.keys.extend(keys);
        self
    }

    /// Sets the clock that TTLs and lifetimes are measured by: tests give the middleware and the
    /// store one [`Clock::manual`](crate::Clock::manual) and advance it instead of sleeping.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn clock(mut self, clock: crate::Clock) -> Self {
        self.config.clock = clock;
        self
    }

    /// Builds the middleware, refusing settings that can never work.
    ///
    /// ```
    /// use actix_typed_session::{store::MemoryStore, ConfigError, SessionMiddleware};
    ///
    /// let key = actix_web::cookie::Key::generate();
    /// let refused = SessionMiddleware::builder(MemoryStore::new(), key)
    ///     .cookie_name("__Host-session")
    ///     .cookie_path("/app")
    ///     .try_build();
    /// assert!(matches!(refused, Err(ConfigError::HostPrefix { .. })));
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`](crate::ConfigError) for: `SameSite::None`, `Partitioned` or a
    /// `__Secure-` name without `Secure`; a `__Host-` name without `Secure`, with a `Domain` or
    /// with a `Path` other than `/`; a maximum lifetime under one second; a cookie name that is
    /// empty or not a valid token; a `Path` or `Domain` with `;` or control characters.
    pub fn try_build(self) -> Result<SessionMiddleware, crate::ConfigError> {
        self.config.validate()?;
        Ok(SessionMiddleware {
            shared: Arc::new(Backend {
                config: self.config,
                storage: self.storage,
                import: self.import,
            }),
        })
    }

    /// Builds the middleware.
    ///
    /// # Panics
    /// On the settings [`try_build`](Self::try_build) refuses, with its error's message: they
    /// are mistakes in the code, found at startup rather than as cookies browsers drop. Use
    /// `try_build` when the settings come from outside the code.
    pub fn build(self) -> SessionMiddleware {
        match self.try_build() {
            Ok(middleware) => middleware,
            Err(err) => panic!("SessionMiddleware: {err}"),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            shared: self.shared.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around your app.
#[derive(Debug)]
pub struct SessionService<S> {
    service: Rc<S>,
    shared: Arc<Backend>,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let slot = Rc::new(RequestSlot::new(self.shared.clone()));
        req.extensions_mut().insert(slot.clone());
        let service = self.service.clone();
        Box::pin(async move {
            let mut res = service.call(req).await?;
            let shared = slot.shared();
            let session = match slot.taken() {
                Some(session) => session.clone(),
                // Refreshing on every request needs the session even when no handler took it.
                None if shared.config.refresh == TtlRefresh::OnEveryRequest => {
                    slot.session(res.request().headers()).clone()
                }
                None => return Ok(res.map_into_left_body()),
            };
            if session.was_accessed() {
                vary(&shared.config, res.headers_mut());
            }
            // A failed handler's changes are not kept, but the stale values it met are
            // removed, so that they fail one request and not every one.
            let failed = res.status().is_server_error();
            let saved = if failed {
                session.commit_stale().await
            } else {
                session.note_device(res.request());
                session.commit().await
            };
            let answered = saved.and_then(|update| {
                answer(&shared.config, session.carrier(), update, res.headers_mut())
            });
            match answered {
                Err(err) if failed => tracing::warn!(
                    error = %crate::log::chain(&err),
                    "could not remove stale session values after a server error"
                ),
                Err(err) => return Ok(save_failed(res, err)),
                Ok(()) => {}
            }
            // The old cookie goes once its session is saved as ours (a failed request keeps it).
            let removal = session.old_cookie_removal().filter(|_| !failed);
            if let Some(value) = removal.and_then(|text| HeaderValue::try_from(text).ok()) {
                res.headers_mut().append(header::SET_COOKIE, value);
            }
            Ok(res.map_into_left_body())
        })
    }
}

/// `Vary` on a response whose session was read: it depends on the token's request header.
fn vary(config: &Config, headers: &mut HeaderMap) {
    if matches!(config.transport, Transport::Cookie) {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        return;
    }
    let (first, second) = vary_headers(config);
    headers.append(header::VARY, first.into());
    if let Some(second) = second {
        headers.append(header::VARY, second.into());
    }
}

/// Puts the commit's answer on the response: `Set-Cookie` (a removal cookie to remove), or the
/// token header (empty to remove) listed in `Access-Control-Expose-Headers` so that browser
/// clients on other origins can read it.
///
/// Such a response also gets `Cache-Control: no-store` unless the app set its own: a shared
/// cache must never hand one client's token to another, and no cache (a browser's disk
/// included) should keep a bearer credential. `private` would still let the browser store it.
///
/// # Errors
/// [`SaveError::InvalidHeader`] when the answer is not a valid header value.
fn answer(
    config: &Config,
    carrier: Carrier,
    update: TokenUpdate,
    headers: &mut HeaderMap,
) -> Result<(), SaveError> {
    let text = match update {
        TokenUpdate::Keep => return Ok(()),
        TokenUpdate::Set(text) => text,
        TokenUpdate::Remove => match carrier {
            Carrier::Cookie => set_cookie_header(config, &removal_cookie(config)),
            Carrier::Header => String::new(),
        },
    };
    let value = HeaderValue::try_from(text).map_err(SaveError::InvalidHeader)?;
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    match answer_header(config, carrier) {
        None => headers.append(header::SET_COOKIE, value),
        Some(name) => {
            headers.insert(name.clone(), value);
            headers.append(header::ACCESS_CONTROL_EXPOSE_HEADERS, name.clone().into());
        }
    }
    Ok(())
}

/// Replaces the handler's response with the opaque 500 (or 503) of the [`SaveError`]: an
/// application's own middleware or `ErrorHandlers` can read it with `response().error()`.
fn save_failed<B>(res: ServiceResponse<B>, err: SaveError) -> ServiceResponse<EitherBody<B>> {
    let response = actix_web::HttpResponse::from_error(err);
    res.into_response(response).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(transport: Transport, carrier: Carrier, update: TokenUpdate) -> HeaderMap {
        let mut config = Config::new(Key::generate());
        config.transport = transport;
        let mut headers = HeaderMap::new();
        answer(&config, carrier, update, &mut headers).unwrap();
        headers
    }

    fn get<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
        headers.get_all(name).map(|v| v.to_str().unwrap()).collect()
    }

    #[test]
    fn header_mode_answers_the_token_empty_removals_and_nothing_for_keep() {
        for transport in [Transport::header(), Transport::bearer(), Transport::both()] {
            let set = answered(
                transport.clone(),
                Carrier::Header,
                TokenUpdate::Set("tok.1~a".into()),
            );
            assert_eq!(get(&set, "x-session"), ["tok.1~a"], "{transport:?}");
            assert_eq!(get(&set, "access-control-expose-headers"), ["x-session"]);
            assert_eq!(get(&set, "cache-control"), ["no-store"]);
            assert!(set.get(header::SET_COOKIE).is_none());

            let removed = answered(transport.clone(), Carrier::Header, TokenUpdate::Remove);
            assert_eq!(get(&removed, "x-session"), [""], "{transport:?}");
            assert_eq!(get(&removed, "cache-control"), ["no-store"]);
            assert!(removed.get(header::SET_COOKIE).is_none());

            assert!(answered(transport, Carrier::Header, TokenUpdate::Keep).is_empty());
        }
    }

    #[test]
    fn cookie_mode_answers_set_cookie_only() {
        for transport in [Transport::Cookie, Transport::both()] {
            let text = "session=tok; HttpOnly; SameSite=Lax; Secure; Path=/";
            let set = answered(
                transport.clone(),
                Carrier::Cookie,
                TokenUpdate::Set(text.into()),
            );
            assert_eq!(get(&set, "set-cookie"), [text]);
            assert_eq!(get(&set, "cache-control"), ["no-store"]);
            assert_eq!(set.len(), 2, "{transport:?}: {set:?}");

            let removed = answered(transport.clone(), Carrier::Cookie, TokenUpdate::Remove);
            let removal = get(&removed, "set-cookie");
            assert!(removal[0].starts_with("session=;"), "{removal:?}");
            assert!(removal[0].contains("Max-Age=0"), "{removal:?}");
            assert_eq!(get(&removed, "cache-control"), ["no-store"]);
            assert_eq!(removed.len(), 2);

            assert!(answered(transport, Carrier::Cookie, TokenUpdate::Keep).is_empty());
        }
    }

    #[test]
    fn an_apps_own_cache_control_is_kept() {
        let config = Config::new(Key::generate());
        for update in [TokenUpdate::Set("session=tok".into()), TokenUpdate::Remove] {
            let mut headers = HeaderMap::new();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
            answer(&config, Carrier::Cookie, update, &mut headers).unwrap();
            assert_eq!(get(&headers, "cache-control"), ["private"]);
        }
    }

    #[test]
    fn vary_names_the_header_the_token_is_read_from() {
        let varied = |transport| {
            let mut config = Config::new(Key::generate());
            config.transport = transport;
            let mut headers = HeaderMap::new();
            vary(&config, &mut headers);
            get(&headers, "vary")
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(varied(Transport::Cookie), ["Cookie"]);
        assert_eq!(varied(Transport::header()), ["x-session"]);
        assert_eq!(varied(Transport::bearer()), ["authorization"]);
        assert_eq!(varied(Transport::both()), ["cookie", "x-session"]);
    }

    #[test]
    fn build_panics_with_the_message_of_try_build() {
        let err = crate::ConfigError::SameSiteNoneWithoutSecure.to_string();
        let panicked = std::panic::catch_unwind(|| {
            SessionMiddleware::builder(crate::store::MemoryStore::new(), Key::generate())
                .cookie_same_site(SameSite::None)
                .cookie_secure(false)
                .build()
        })
        .unwrap_err();
        let message = panicked.downcast_ref::<String>().unwrap();
        assert!(message.contains(&err), "{message}");
    }
}
