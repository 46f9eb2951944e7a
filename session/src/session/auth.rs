//! Signing in and out, and a user's sessions: listing them and ending one or all.
//!
//! Signing in binds a user id to the session under [`USER_KEY`] and renews the session id in
//! the same commit, so an id planted before authentication (session fixation) is worthless
//! after it. The commit then lists the new id among the user's sessions in the store
//! ([`SessionStore::index_user_session`](crate::store::SessionStore::index_user_session)),
//! after the session is written: a concurrent "log out everywhere" either ends it or leaves it
//! listed, never live and unlisted. Requests that neither sign in nor out pay nothing for this.
//!
//! Signing in and out also rotate the session's CSRF secret (under [`CSRF_KEY`]): a form
//! token handed out before the sign-in (to an attacker who planted the session, say) never
//! verifies after it, and a signed-out session starts without one.

use std::{sync::Arc, time::Duration};

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    state::{Bound, SessionState},
    Session, Storage,
};
use crate::{
    config::Config,
    observe,
    store::{DynStore, UserBinding, UserSession, USER_KEY},
    SaveError, SessionError, SessionHandle, SessionId, SignInDevice, StoreError,
};

/// Listing or ending a user's sessions failed.
///
/// As a handler's error it answers 401 when no user is signed in, 501 when the store cannot
/// list sessions (the [`CookieStore`](crate::store::CookieStore): its sessions live in the
/// browsers), and otherwise an opaque 500 (a 503 with `Retry-After` when the store is down or
/// timed out, as [`StoreError`] says), the cause logged.
///
/// ```
/// use actix_web::{http::StatusCode, ResponseError};
/// use actix_typed_session::UserSessionsError;
///
/// assert_eq!(UserSessionsError::NotSignedIn.status_code(), StatusCode::UNAUTHORIZED);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserSessionsError {
    /// The session has no signed-in user.
    #[error("no user is signed in on this session")]
    NotSignedIn,
    /// The store keeps no list of a user's sessions.
    #[error("this session store cannot list or end a user's sessions")]
    Unsupported(#[source] StoreError),
    /// The session could not be read.
    #[error("could not read the session")]
    Session(#[from] SessionError),
    /// The store failed.
    #[error("the session store failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for UserSessionsError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unsupported { .. } => Self::Unsupported(err),
            err => Self::Store(err),
        }
    }
}

impl ResponseError for UserSessionsError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotSignedIn => StatusCode::UNAUTHORIZED,
            Self::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
            Self::Store(err) => err.status(),
            Self::Session(err) => err.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            return crate::error::opaque(status, "user sessions operation failed", self);
        }
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(status.canonical_reason().unwrap_or_default())
    }
}

/// The session key that holds the session's CSRF secret (see
/// [`CsrfToken`](crate::CsrfToken)); applications should leave it alone. Signing in drops it,
/// and signing out ends the session that held it, so a token from before either stops
/// verifying.
///
/// ```
/// assert!(actix_typed_session::CSRF_KEY.starts_with("__session."));
/// ```
pub const CSRF_KEY: &str = "__session.csrf";

impl Session {
    /// Signs `user` in: binds the user id to the session and moves it to a new id in the same
    /// commit (the pre-login id stops working), then lists it among the user's sessions.
    /// Call it after checking the credentials. The id is any serializable value: a string
    /// (`sign_in("ada")`), a number, or your own id type; read it back with
    /// [`user`](Self::user) or [`user_as`](Self::user_as), or take a
    /// [`SignedIn`](crate::SignedIn) extractor.
    ///
    /// What the session keeps depends on who held it (as Django's `login`):
    ///
    /// | the session was              | data         | TTL, "remember me", creation time |
    /// |------------------------------|--------------|-----------------------------------|
    /// | anonymous, or `user`'s own   | kept         | kept                              |
    /// | another user's               | dropped      | configured default, now           |
    /// | purged in this request       | dropped      | configured default, now           |
    ///
    /// A dropped session starts clean: no data, the configured TTL (a browser-session cookie
    /// under [`CookieLifecycle::BrowserSession`](crate::CookieLifecycle)), a creation time of
    /// now and so a whole maximum lifetime; the old session is deleted. Call
    /// [`set_ttl`](Self::set_ttl) for "remember me" *after* signing in.
    ///
    /// The CSRF secret is dropped either way (a new one is made when a handler next asks for a
    /// [`CsrfToken`](crate::CsrfToken)), so tokens handed out before the sign-in stop
    /// verifying.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// session.insert("cart", ["tea"])?; // shopping anonymously
    /// // after checking the password:
    /// session.sign_in("ada")?;
    /// assert_eq!(session.user()?.as_deref(), Some("ada"));
    /// assert!(session.contains_key("cart")?); // kept: the session was anonymous
    ///
    /// session.sign_in(42u64)?; // someone else: a clean session
    /// assert_eq!(session.user_as::<u64>()?, Some(42));
    /// assert!(!session.contains_key("cart")?);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] on a handle whose session is not loaded (one from
    /// [`SessionExt`](crate::SessionExt): call [`load`](Self::load) or
    /// [`load_keys`](Self::load_keys) first; every extractor loads what this needs), since
    /// who signed the session in decides what it keeps; [`SessionError::Serialize`] when
    /// `user` cannot be written as JSON.
    pub fn sign_in<U: Serialize>(&self, user: U) -> Result<(), SessionError> {
        self.bind(user, None)
    }

    /// [`sign_in`](Self::sign_in), bound to the user's credential version `epoch`: the value
    /// the middleware's [`credential_epoch`](crate::SessionMiddlewareBuilder::credential_epoch)
    /// source answers for this user while these credentials hold (the password hash just
    /// checked, say). Once the source answers anything else, the session is signed out at its
    /// next load. The session keeps a digest of `epoch`, never `epoch` itself. Without that
    /// setting the digest is kept and never checked.
    ///
    /// Use it when the version is at hand at sign-in; [`sign_in`](Self::sign_in) asks the
    /// source when the sign-in is saved.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// let password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"; // the user row just checked
    /// session.sign_in_with_epoch("ada", password_hash)?;
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// As [`sign_in`](Self::sign_in).
    pub fn sign_in_with_epoch<U: Serialize>(
        &self,
        user: U,
        epoch: impl AsRef<[u8]>,
    ) -> Result<(), SessionError> {
        self.bind(user, Some(epoch.as_ref()))
    }

    fn bind<U: Serialize>(&self, user: U, epoch: Option<&[u8]>) -> Result<(), SessionError> {
        let serialize = |source| SessionError::Serialize {
            key: USER_KEY.to_owned(),
            source,
        };
        let user = serde_json::to_value(user).map_err(serialize)?;
        let configured = self
            .0
            .shared
            .as_ref()
            .map_or(crate::config::DEFAULT_TTL, |s| s.config.ttl);
        let at = self.now_unix();
        let incoming = self.incoming();
        let mut state = self.state();
        let mut record = UserBinding {
            user,
            at,
            ttl: 0,
            epoch: None,
            agent: None,
            ip: None,
        };
        let user = record.user();
        record.epoch = epoch.map(|epoch| crate::epoch::digest(&user, epoch));
        // A session known to be fresh had no user; any other must show who held it.
        if incoming.is_some() && !state.is_fresh() && !state.has_key(USER_KEY) {
            return Err(SessionError::NotLoaded {
                key: USER_KEY.to_owned(),
            });
        }
        let keeps = match &state.user {
            Bound::Nobody => !state.purged,
            Bound::User(bound) => bound.user() == user,
            // Unreadable: no user this code can call the same.
            Bound::Unreadable => false,
        };
        if !keeps {
            // Renew a cleared session: purge-then-create with an id known now, so the commit
            // can list it, and nothing of the old session's lifetime inherited.
            state.forget_all();
            state.purged = false;
            state.cleared = true;
            state.restarted = true;
            state.ttl_set = None;
        }
        let record = UserBinding {
            ttl: state.meta(incoming, configured).ttl.as_secs(),
            ..record
        };
        state.renewed_to = Some(SessionId::generate());
        put_binding(&mut state, record);
        // Removed whether loaded or not: the change set deletes it in the store.
        state.entries.remove(CSRF_KEY);
        state.changes.insert(CSRF_KEY.to_owned());
        state.signing_in = Some(user);
        Ok(())
    }

    /// Returns the signed-in user's id in its canonical form (a string id as it is; any other id as
    /// its JSON text, `"42"` for `42u64`: what the store's list of a user's sessions keys by),
    /// or `None` for an anonymous session. [`user_as`](Self::user_as) reads it typed.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// match session.user()? {
    ///     Some(user) => println!("hello {user}"),
    ///     None => println!("please sign in"),
    /// }
    /// assert_eq!(session.user()?, None);
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::NotLoaded`] when the session is not loaded (a handle from
    /// [`SessionExt`](crate::SessionExt) before [`load`](Self::load); every extractor,
    /// typed ones included, loads the user). A stored binding this version cannot read counts
    /// as nobody (and a sign-in over it starts a clean session).
    pub fn user(&self) -> Result<Option<String>, SessionError> {
        self.with_user(|bound| bound.user())
    }

    /// Returns the signed-in user's id as the type it was signed in with, or `None` for an
    /// anonymous session.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct UserId(u64);
    ///
    /// session.sign_in(UserId(7))?;
    /// assert_eq!(session.user_as::<UserId>()?, Some(UserId(7)));
    /// assert_eq!(session.user()?.as_deref(), Some("7"));
    /// # Ok::<(), actix_typed_session::SessionError>(())
    /// ```
    ///
    /// # Errors
    /// As [`user`](Self::user); [`SessionError::Deserialize`] also when the id is not a `U`.
    pub fn user_as<U: DeserializeOwned>(&self) -> Result<Option<U>, SessionError> {
        self.with_user(|bound| {
            U::deserialize(&bound.user).map_err(|e| SessionError::deserialize::<U>(USER_KEY, &e))
        })?
        .transpose()
    }

    /// `f` of the signed-in user's binding, under the state lock; `None` for an anonymous
    /// session (or one whose binding this code cannot read).
    fn with_user<R>(&self, f: impl FnOnce(&UserBinding) -> R) -> Result<Option<R>, SessionError> {
        let state = self.state();
        if !state.has_key(USER_KEY) {
            return Err(SessionError::NotLoaded {
                key: USER_KEY.to_owned(),
            });
        }
        Ok(state.user.binding().map(f))
    }

    /// Signs out: ends this session everywhere (as [`purge`](Self::purge)), which takes it off
    /// the user's list. Its CSRF secret ends with it.
    ///
    /// ```
    /// # let session = actix_typed_session::Session::detached();
    /// # session.sign_in("ada").unwrap();
    /// session.sign_out();
    /// assert_eq!(session.user().unwrap(), None);
    /// ```
    pub fn sign_out(&self) {
        self.purge();
    }

    /// Returns the live sessions of the signed-in user, this one marked
    /// [`current`](UserSession::current).
    ///
    /// ```
    /// # async fn f(session: actix_typed_session::Session) -> Result<(), actix_typed_session::UserSessionsError> {
    /// for s in session.user_sessions().await? {
    ///     println!("since {:?}, last used {:?}{}", s.signed_in, s.last_used,
    ///         if s.current { " (this one)" } else { "" });
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`UserSessionsError::NotSignedIn`] when no user is signed in,
    /// [`UserSessionsError::Unsupported`] on a store that keeps no list (the cookie store),
    /// otherwise load or store failures.
    pub async fn user_sessions(&self) -> Result<Vec<UserSession>, UserSessionsError> {
        let (store, user) = self.user_store().await?;
        let current = self.id();
        let mut sessions = store.user_sessions(&user).await?;
        for session in &mut sessions {
            session.current = current.as_ref() == Some(&session.id);
        }
        Ok(sessions)
    }

    /// Ends the signed-in user's session whose row has `handle` (one row of
    /// [`user_sessions`](Self::user_sessions), as a "your sessions" page hands it back);
    /// returns false when no session of theirs has it (another user's, or already ended).
    /// Ending this very session signs it out.
    ///
    /// ```
    /// # async fn f(session: actix_typed_session::Session, handle: actix_typed_session::SessionHandle) -> Result<(), actix_typed_session::UserSessionsError> {
    /// let ended = session.end_user_session(&handle).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`user_sessions`](Self::user_sessions).
    pub async fn end_user_session(
        &self,
        handle: &SessionHandle,
    ) -> Result<bool, UserSessionsError> {
        let (store, user) = self.user_store().await?;
        let rows = store.user_sessions(&user).await?;
        let Some(id) = rows
            .into_iter()
            .find(|row| row.handle == *handle)
            .map(|row| row.id)
        else {
            return Ok(false);
        };
        let id = &id;
        let ended = store.end_user_session(&user, id).await?;
        if ended {
            observe::ended("everywhere", 1);
        }
        if self.id().as_ref() == Some(id) {
            self.purge();
            self.state().ended_elsewhere = ended;
        }
        Ok(ended)
    }

    /// "Log out everywhere": ends every session of the signed-in user, this one included (its
    /// cookie is removed). Returns how many sessions were live.
    ///
    /// A renewal racing this call may list its new id after the listing was ended, and so
    /// survive it. With [`credential_epoch`](crate::SessionMiddlewareBuilder::credential_epoch)
    /// set, move the user to a new credential version as well (after this request's load):
    /// every session signed in under the old one, that renewal included, is then signed out at
    /// its next request. On the cookie store, which keeps no list (this answers
    /// [`UserSessionsError::Unsupported`]), the new version alone does it.
    ///
    /// ```
    /// # async fn f(session: actix_typed_session::Session) -> Result<(), actix_typed_session::UserSessionsError> {
    /// // after a password change:
    /// let ended = session.sign_out_everywhere().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`user_sessions`](Self::user_sessions); nothing is ended on
    /// [`UserSessionsError::Unsupported`].
    pub async fn sign_out_everywhere(&self) -> Result<usize, UserSessionsError> {
        let (store, user) = self.user_store().await?;
        let ended = store.end_user_sessions(&user).await?;
        observe::ended("everywhere", u64::try_from(ended).unwrap_or(u64::MAX));
        self.purge();
        self.state().ended_elsewhere = true;
        Ok(ended)
    }

    /// The server-side store and the signed-in user.
    async fn user_store(&self) -> Result<(Arc<dyn DynStore>, String), UserSessionsError> {
        let shared = self
            .0
            .shared
            .as_ref()
            .ok_or(SessionError::MissingMiddleware)?;
        self.load_keys(&[USER_KEY]).await?;
        let user = self.user()?.ok_or(UserSessionsError::NotSignedIn)?;
        match &shared.storage {
            Storage::Server(store) => Ok((store.clone(), user)),
            Storage::Cookie(_) => Err(UserSessionsError::Unsupported(StoreError::Unsupported {
                operation: "listing a user's sessions (they live in the browsers)",
            })),
        }
    }
}

impl Session {
    /// Before the commit: a [`sign_in`](Session::sign_in) without a credential version, on a
    /// middleware that checks them, records the version the source answers now.
    pub(super) async fn stamp_epoch(&self, config: &Config) -> Result<(), SaveError> {
        let Some(epochs) = &config.epochs else {
            return Ok(());
        };
        let user = {
            let state = self.state();
            match (&state.signing_in, state.user.binding()) {
                (Some(user), Some(bound)) if bound.epoch.is_none() => user.clone(),
                _ => return Ok(()),
            }
        };
        let digest = epochs
            .current(&user)
            .await
            .map_err(|err| SaveError::Store(StoreError::Unavailable(err)))?
            .ok_or_else(|| {
                SaveError::Store(StoreError::Other(
                    "credential_epoch knows no version for the user signing in".into(),
                ))
            })?;
        // Signing in: the binding is already this request's change.
        if let Some(bound) = self.state().user.binding_mut() {
            bound.epoch = Some(digest);
        }
        Ok(())
    }

    /// After the handler, before the commit: a sign-in on a server-side store records what
    /// [`SignInDevice`] asks of the request it came in.
    pub(crate) fn note_device(&self, req: &actix_web::HttpRequest) {
        let Some(shared) = self.0.shared.as_deref() else {
            return;
        };
        let device = shared.config.sign_in_device;
        if device == SignInDevice::Off || !matches!(shared.storage, Storage::Server(_)) {
            return;
        }
        let mut state = self.state();
        if state.signing_in.is_none() {
            return;
        }
        // Signing in: the binding is already this request's change.
        let Some(bound) = state.user.binding_mut() else {
            return;
        };
        let agent = req.headers().get(actix_web::http::header::USER_AGENT);
        bound.agent = agent.map(|ua| shorten(&String::from_utf8_lossy(ua.as_bytes()), 256));
        bound.ip = match device {
            SignInDevice::ForwardedFor => req.connection_info().realip_remote_addr().map(address),
            _ => req.peer_addr().map(|peer| peer.ip().to_string()),
        };
    }

    /// On load, with the middleware checking credential versions: whether the session's loaded
    /// binding still holds. A binding without a version, one this code cannot read, or a user
    /// the source no longer knows does not.
    pub(super) async fn epoch_holds(
        &self,
        config: &Config,
        bound: &Bound,
    ) -> Result<bool, SessionError> {
        let Some(epochs) = &config.epochs else {
            return Ok(true);
        };
        let Some(bound) = bound.binding() else {
            return Ok(false);
        };
        let Some(recorded) = bound.epoch.as_deref() else {
            return Ok(false);
        };
        let current = epochs
            .current(&bound.user())
            .await
            .map_err(|err| SessionError::Load(StoreError::Unavailable(err)))?;
        Ok(current.is_some_and(|now| crate::epoch::same(&now, recorded)))
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn shorten(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A client address as a proxy header gives it: the IP of `ip:port` or `[ip]:port`, an IP as
/// it is, and anything else (an obfuscated `Forwarded` node) shortened.
fn address(raw: &str) -> String {
    raw.parse::<std::net::SocketAddr>()
        .map(|addr| addr.ip())
        .or_else(|_| raw.parse::<std::net::IpAddr>())
        .map_or_else(|_| shorten(raw, 64), |ip| ip.to_string())
}

/// The canonical id of the user the session binds, if it binds one this code can read.
pub(super) fn bound_user(state: &SessionState) -> Option<String> {
    state.user.binding().map(UserBinding::user)
}

/// Binds `record` as a change of this request.
fn put_binding(state: &mut SessionState, record: UserBinding) {
    state.user = Bound::User(Box::new(record));
    state.changes.insert(USER_KEY.to_owned());
}

/// Keeps the TTL in the binding in step with [`Session::set_ttl`], so listings compute "last
/// used" from the right TTL. A binding not loaded is left alone.
pub(super) fn note_ttl(state: &mut SessionState, ttl: Duration) {
    if let Some(record) = state.user.binding_mut() {
        record.ttl = ttl.as_secs();
        state.changes.insert(USER_KEY.to_owned());
    }
}
