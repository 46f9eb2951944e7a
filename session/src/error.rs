//! Error types, one per failing operation.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::error::Category;

/// A boxed error from a store's backend, kept as the `#[source]` of [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A store operation failed.
///
/// Stores map their backend's errors onto these variants so that the middleware can act on
/// them: [`StoreError::Corrupt`] state is replaced by a fresh session, everything else fails the
/// request with an opaque 500 and the cause in the log.
///
/// Handlers that call a store themselves (a [`SessionStore`](crate::store::SessionStore)
/// method, a pool's connection, a pruning run) can return it with `?`: as a [`ResponseError`] it
/// is the same opaque `500 Internal Server Error` as [`SessionError`], the cause logged.
///
/// ```
/// use actix_web::web;
/// use actix_typed_session::{store::{MemoryStore, SessionStore as _}, SessionId, StoreError};
///
/// /// Deletes the sessions the application recorded for this user.
/// async fn sign_out_everywhere(
///     store: web::Data<MemoryStore>,
///     ids: web::Data<Vec<SessionId>>,
/// ) -> Result<&'static str, StoreError> {
///     for id in ids.iter() {
///         store.delete(id).await?;
///     }
///     Ok("signed out")
/// }
///
/// let route = web::post().to(sign_out_everywhere);
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
/// As a [`ResponseError`] it is an opaque `500 Internal Server Error`: the body says nothing of
/// the cause, which is logged with `tracing` when the response is built.
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
    /// A typed session's `load()` found some of its struct's required fields but not this one
    /// (a remover or an untyped `remove` took it): the stored struct is incomplete.
    #[error("session key `{key}` is absent while other required fields of its typed session are present")]
    Incomplete {
        /// The first absent key.
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

impl ResponseError for StoreError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        opaque_500("session store operation failed", self)
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        opaque_500("session operation failed", self)
    }
}

/// The one response clients see for any internal failure: a 500 whose body says nothing of the
/// cause, which goes to the log with its whole chain.
fn opaque_500(what: &str, err: &(dyn std::error::Error + 'static)) -> HttpResponse {
    crate::log::error_chain(what, err);
    HttpResponse::InternalServerError()
        .content_type("text/plain; charset=utf-8")
        .body("Internal Server Error")
}

/// Saving the session after the handler ran failed; the response is turned into a 500.
///
/// The 500 carries this error, so an application's own middleware can see why, e.g. a
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
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        opaque_500("could not save the session; answering 500", self)
    }
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
