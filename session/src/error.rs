//! Error types, one per failing operation.

use actix_web::{
    http::{header::HeaderValue, StatusCode},
    HttpResponse, ResponseError,
};
use serde_json::error::Category;

/// A boxed error from a store's backend, kept as the `#[source]` of [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A store operation failed.
///
/// Stores map their backend's errors onto these variants so that the middleware can act on
/// them: [`StoreError::Corrupt`] state is replaced by a fresh session; an outage
/// ([`StoreError::Unavailable`], [`StoreError::Timeout`]) fails the request with an opaque
/// `503 Service Unavailable` and `Retry-After: 5`, so that load balancers and clients retry;
/// everything else with an opaque `500 Internal Server Error`. The cause goes to the log, never
/// to the body. This holds however the error reaches the response: a failed load in an
/// extractor ([`SessionError::Load`]), a failed save after the handler ([`SaveError::Store`]),
/// or a handler's own `?`.
///
/// Five seconds is long enough that clients do not hammer a store coming back from a restart
/// or a failover, and short enough that a blip costs users little; the store's own timeouts
/// bound how long each failing request takes.
///
/// Handlers that call a store themselves (a [`SessionStore`](crate::store::SessionStore)
/// method, a pool's connection, a pruning run) can return it with `?`: as a [`ResponseError`] it
/// answers as above, the cause logged.
///
/// ```
/// use actix_web::web;
/// use actix_typed_session::{store::{Keys, MemoryStore, SessionStore as _}, SessionId, StoreError};
///
/// /// A readiness probe: a 503 (with `Retry-After`) while the session store is down.
/// async fn ready(store: web::Data<MemoryStore>) -> Result<&'static str, StoreError> {
///     // Any id will do: an unknown one is a cheap miss that still needs the store.
///     store.load(&SessionId::generate(), Keys::All, None).await?;
///     Ok("ready")
/// }
///
/// let route = web::get().to(ready);
/// ```
///
/// ```
/// use actix_typed_session::StoreError;
///
/// fn from_backend(err: std::io::Error) -> StoreError {
///     match err.kind() {
///         std::io::ErrorKind::TimedOut => StoreError::Timeout,
///         _ => StoreError::unavailable(err),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or answered with an error.
    #[error("the session store is unavailable")]
    Unavailable(#[source] BoxError),
    /// The backend did not answer within the configured time.
    #[error("the session store did not answer in time")]
    Timeout,
    /// Stored state exists but cannot be decoded; the middleware treats it as no session.
    #[error("stored session state could not be decoded")]
    Corrupt(#[source] BoxError),
    /// Any other failure of the backend.
    #[error("the session store failed")]
    Other(#[source] BoxError),
    /// The store cannot do this at all (e.g. list a user's sessions in the cookie store).
    #[error("the session store does not support {operation}")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
    },
}

impl StoreError {
    /// Wraps a backend error as [`StoreError::Unavailable`].
    ///
    /// ```
    /// let err = actix_typed_session::StoreError::unavailable("connection refused");
    /// assert!(matches!(err, actix_typed_session::StoreError::Unavailable(_)));
    /// ```
    pub fn unavailable(err: impl Into<BoxError>) -> Self {
        Self::Unavailable(err.into())
    }

    /// Wraps a decoding error as [`StoreError::Corrupt`].
    ///
    /// ```
    /// let err = serde_json::from_str::<u8>("x").unwrap_err();
    /// assert!(matches!(actix_typed_session::StoreError::corrupt(err), actix_typed_session::StoreError::Corrupt(_)));
    /// ```
    pub fn corrupt(err: impl Into<BoxError>) -> Self {
        Self::Corrupt(err.into())
    }
}

/// An operation on a [`Session`](crate::Session) failed.
///
/// As a [`ResponseError`] it is an opaque `500 Internal Server Error` (a
/// `503 Service Unavailable` with `Retry-After` when a [`SessionError::Load`] is an outage, as
/// [`StoreError`] says): the body says nothing of the cause, which is logged with `tracing` when
/// the response is built.
///
/// ```
/// use actix_typed_session::{Session, SessionError};
///
/// fn theme(session: &Session) -> Result<String, SessionError> {
///     match session.get::<String>("theme") {
///         Ok(theme) => Ok(theme.unwrap_or_else(|| "light".into())),
///         // An old deployment stored something else here: drop it rather than fail this and
///         // every later request of the session.
///         Err(SessionError::Deserialize { .. }) => {
///             session.remove("theme")?;
///             Ok("light".into())
///         }
///         Err(other) => Err(other),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The value could not be serialized to JSON.
    #[error("could not serialize the value for session key `{key}`")]
    Serialize {
        /// The session key.
        key: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// The stored value is not of the requested type.
    ///
    /// It holds where decoding stopped but not serde's message, which can quote the stored
    /// value (`invalid type: string "…"`): this error is logged, and values are secrets.
    #[error(
        "the value under session key `{key}` is not a `{expected}` ({} at line {line}, column {column})",
        category_text(*.category)
    )]
    Deserialize {
        /// The session key.
        key: String,
        /// The requested type, as [`std::any::type_name`] names it.
        expected: &'static str,
        /// The kind of decoding failure: [`Category::Data`] for a value of another type.
        category: Category,
        /// Line of the stored JSON text where decoding stopped (1-based).
        line: usize,
        /// Column of that line where decoding stopped (1-based).
        column: usize,
    },
    /// Loading the session from its store failed.
    #[error("could not load the session")]
    Load(#[source] StoreError),
    /// The key was not loaded: the handle came from [`SessionExt`](crate::SessionExt) without
    /// [`Session::load`](crate::Session::load), or from a typed extraction of other keys.
    #[error("session key `{key}` is not loaded: call `Session::load().await` first")]
    NotLoaded {
        /// The session key.
        key: String,
    },
    /// The session's creation or expiry time was asked before the session was loaded: the
    /// handle came from [`SessionExt`](crate::SessionExt) without
    /// [`Session::load`](crate::Session::load).
    #[error("the session is not loaded: call `Session::load().await` first")]
    Unloaded,
    /// A typed session's `load()` found some of its struct's required fields but not this one
    /// (a remover or an untyped `remove` took it): the stored struct is incomplete.
    #[error("session key `{key}` is absent while other required fields of its typed session are present")]
    Incomplete {
        /// The first absent key.
        key: String,
    },
    /// The application tried to write or remove a key reserved for the library (one starting
    /// with `__session`, such as [`USER_KEY`](crate::store::USER_KEY)): sign in with
    /// [`Session::sign_in`](crate::Session::sign_in), queue flash messages with
    /// [`Flash`](crate::Flash). An opaque 500 whose log line names the key.
    ///
    /// ```
    /// use actix_typed_session::{Session, SessionError};
    ///
    /// let session = Session::detached();
    /// let err = session.insert("__session.user", "mallory").unwrap_err();
    /// assert!(matches!(err, SessionError::ReservedKey { .. }));
    /// assert!(err.to_string().contains("`__session.user`"));
    /// ```
    #[error("session key `{key}` is reserved for the library (keys starting with `__session`)")]
    ReservedKey {
        /// The session key.
        key: String,
    },
    /// The request did not pass through [`SessionMiddleware`](crate::SessionMiddleware): the
    /// `Session` and typed extractors, [`Flash`](crate::Flash), [`CsrfToken`](crate::CsrfToken),
    /// [`Csrf`](crate::Csrf) and [`LoadSession`](crate::LoadSession) fail with it (an opaque
    /// 500), so an app that forgot `App::wrap` does not quietly forget every session. A unit test
    /// without the middleware calls [`get_session`](crate::SessionExt::get_session) first,
    /// which gives the request a working detached session that the extractors then use.
    #[error("no session on this request: is `SessionMiddleware` registered with `App::wrap`?")]
    MissingMiddleware,
}

impl SessionError {
    /// A [`SessionError::ReservedKey`] when `key` is the library's.
    pub(crate) fn check_reserved(key: &str) -> Result<(), Self> {
        if key.starts_with(RESERVED_PREFIX) {
            return Err(Self::ReservedKey {
                key: key.to_owned(),
            });
        }
        Ok(())
    }

    /// A [`SessionError::Deserialize`] for `key`, decoded as a `T`, that keeps nothing of
    /// `error`'s message.
    pub(crate) fn deserialize<T>(key: &str, error: &serde_json::Error) -> Self {
        Self::Deserialize {
            key: key.to_owned(),
            expected: std::any::type_name::<T>(),
            category: error.classify(),
            line: error.line(),
            column: error.column(),
        }
    }
}

fn category_text(category: Category) -> &'static str {
    match category {
        Category::Io => "I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "a value of another type",
        Category::Eof => "truncated JSON",
    }
}

impl StoreError {
    /// The status a request failed by this error answers: 503 for an outage, else 500.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ResponseError for StoreError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        opaque(self.status(), "session store operation failed", self)
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Load(err) => err.status(),
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        opaque(self.status_code(), "session operation failed", self)
    }
}

/// Keys the library keeps for itself start with it: the app cannot write them.
const RESERVED_PREFIX: &str = "__session";

/// Seconds a 503 asks clients to wait before retrying (see [`StoreError`] for why five).
const RETRY_AFTER_SECS: &str = "5";

/// The one response clients see for an internal failure: a 500, or a 503 with `Retry-After`
/// for a store outage, whose body says nothing of the cause (the log gets its whole chain).
pub(crate) fn opaque(
    status: StatusCode,
    what: &str,
    err: &(dyn std::error::Error + 'static),
) -> HttpResponse {
    crate::log::error_chain(what, err);
    let mut response = HttpResponse::build(status);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        ));
    }
    response
        .content_type("text/plain; charset=utf-8")
        .body(status.canonical_reason().unwrap_or_default())
}

/// Saving the session after the handler ran failed; the response is turned into an opaque 500
/// (a 503 with `Retry-After` when the store is down or timed out: see [`StoreError`]).
///
/// The response carries this error, so an application's own middleware can see why, e.g. a
/// cookie-store session that outgrew the 4096-byte cookie limit:
///
/// ```
/// use actix_web::{dev::ServiceResponse, middleware::{ErrorHandlerResponse, ErrorHandlers}};
/// use actix_typed_session::SaveError;
///
/// fn on_500<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
///     let too_large = res
///         .response()
///         .error()
///         .and_then(|e| e.as_error::<SaveError>())
///         .is_some_and(|e| matches!(e, SaveError::CookieTooLarge { .. }));
///     if too_large {
///         tracing::warn!("a session outgrew its cookie");
///     }
///     Ok(ErrorHandlerResponse::Response(res.map_into_left_body()))
/// }
///
/// let app = actix_web::App::new().wrap(
///     ErrorHandlers::new().handler(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, on_500),
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The store failed to write (or, for a renewal or a cookie-store write, to load first).
    #[error("the session store failed")]
    Store(#[from] StoreError),
    /// A cookie-store session whose `Set-Cookie` would exceed what browsers keep: sending it
    /// would have the browser drop it silently.
    #[error("the session cookie would be {size} bytes, over the browsers' limit of {limit} bytes")]
    CookieTooLarge {
        /// Size of the whole `Set-Cookie` text.
        size: usize,
        /// [`MAX_COOKIE_BYTES`](crate::store::MAX_COOKIE_BYTES).
        limit: usize,
    },
    /// A cookie-store session answered in a header ([`Transport`](crate::Transport)) whose
    /// token would exceed what proxies and servers accept in a request header: the client
    /// could not send it back.
    #[error("the session token would be {size} bytes, over the header limit of {limit} bytes")]
    TokenTooLarge {
        /// Size of the token.
        size: usize,
        /// [`MAX_HEADER_TOKEN_BYTES`](crate::MAX_HEADER_TOKEN_BYTES).
        limit: usize,
    },
    /// The `Set-Cookie` text (or the token header) is not a valid header value (a cookie name, path or domain with
    /// characters a header cannot carry).
    #[error("the session cookie is not a valid header value")]
    InvalidHeader(#[source] actix_web::http::header::InvalidHeaderValue),
}

impl ResponseError for SaveError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Store(err) => err.status(),
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let what = if status == StatusCode::SERVICE_UNAVAILABLE {
            "could not save the session; answering 503"
        } else {
            "could not save the session; answering 500"
        };
        opaque(status, what, self)
    }
}

/// A [`SessionMiddlewareBuilder`](crate::SessionMiddlewareBuilder) setting that can never
/// work, refused by [`try_build`](crate::SessionMiddlewareBuilder::try_build) (and by `build`,
/// which panics with the same message).
///
/// ```
/// use actix_web::cookie::{Key, SameSite};
/// use actix_typed_session::{store::MemoryStore, ConfigError, SessionMiddleware};
///
/// let err = SessionMiddleware::builder(MemoryStore::new(), Key::generate())
///     .cookie_same_site(SameSite::None)
///     .cookie_secure(false)
///     .try_build()
///     .unwrap_err();
/// assert!(matches!(err, ConfigError::SameSiteNoneWithoutSecure));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Browsers drop a `SameSite=None` cookie that is not `Secure`.
    #[error("a `SameSite=None` cookie must be `Secure`: browsers drop it otherwise (set `cookie_secure(true)`, or another `SameSite`)")]
    SameSiteNoneWithoutSecure,
    /// Browsers drop a `Partitioned` cookie that is not `Secure`.
    #[error("a `Partitioned` cookie must be `Secure`: browsers drop it otherwise (set `cookie_secure(true)`)")]
    PartitionedWithoutSecure,
    /// A cookie named `__Host-…` must be `Secure`, host-only (no `Domain`) and have `Path=/`.
    #[error("the cookie `{name}` has the `__Host-` prefix, which browsers accept only with `Secure`, no `Domain` and `Path=/`: {fix}")]
    HostPrefix {
        /// The cookie name.
        name: String,
        /// Which setting breaks the rule, and how to fix it.
        fix: &'static str,
    },
    /// A cookie named `__Secure-…` must be `Secure`.
    #[error("the cookie `{name}` has the `__Secure-` prefix, which browsers accept only with `Secure` (set `cookie_secure(true)`)")]
    SecurePrefixWithoutSecure {
        /// The cookie name.
        name: String,
    },
    /// A cap of zero sessions per user would end every sign-in's own session.
    #[error("`max_sessions_per_user(Some(0))` would end every session as it signs in (use at least 1, or `None` for no cap)")]
    NoSessionPerUser,
    /// A maximum lifetime under one second refuses every cookie (lifetimes count whole seconds).
    #[error("a maximum session lifetime under one second ({max:?}) refuses every session (use `None` for no maximum)")]
    MaxLifetimeUnderOneSecond {
        /// The setting.
        max: std::time::Duration,
    },
    /// The cookie name is empty or holds a character a cookie name cannot (RFC 6265: visible
    /// ASCII except separators such as `=`, `;`, `,`, spaces and quotes).
    #[error("`{name}` is not a valid cookie name (visible ASCII letters, digits and `!#$%&'*+-.^_`|~` only)")]
    InvalidCookieName {
        /// The cookie name.
        name: String,
    },
    /// The cookie's `Path` or `Domain` holds a `;` or a control character, which would break the
    /// `Set-Cookie` header.
    #[error("the cookie's {attribute} `{value}` holds a `;` or a control character")]
    InvalidCookieAttribute {
        /// `Path` or `Domain`.
        attribute: &'static str,
        /// The setting.
        value: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialize_errors_keep_nothing_of_the_value() {
        let secret = "hunter2-do-not-log";
        let texts = [format!("\"{secret}\""), format!("[1, \"{secret}\"]")];
        let errors = [
            SessionError::deserialize::<u64>("k", &decode::<u64>(&texts[0])),
            SessionError::deserialize::<Vec<u64>>("k", &decode::<Vec<u64>>(&texts[1])),
        ];
        for err in errors {
            let shown = format!("{err} / {err:?} / {}", crate::log::chain(&err));
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("`k`") && shown.contains("u64"), "{shown}");
        }
    }

    /// The error of decoding `json` as a `T`, which quotes the secret.
    fn decode<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> serde_json::Error {
        let err = serde_json::from_str::<T>(json).unwrap_err();
        assert!(
            err.to_string().contains("hunter2"),
            "serde_json quotes it: {err}"
        );
        err
    }
}
