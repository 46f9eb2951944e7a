//! CSRF protection bound to the session: a synchronizer token whose secret lives in the
//! session under [`CSRF_KEY`], handed to templates masked ([`CsrfToken`]), and checked on
//! every unsafe request by the [`Csrf`] middleware.
//!
//! The secret is 32 random bytes, made lazily the first time a handler asks for a token (a
//! request that never does costs nothing, and creates no session). Each token handed out is
//! `mask || secret XOR mask` under a fresh random mask, base64url: the same secret never
//! appears twice in a page, so a compressed response cannot leak it byte by byte (BREACH).
//! Any masked token of the current secret verifies, compared in constant time.

mod check;
mod origin;

use std::{fmt, sync::Arc};

use actix_web::{
    dev::Payload, http::StatusCode, FromRequest, HttpMessage as _, HttpRequest, HttpResponse,
    ResponseError,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use futures_util::future::LocalBoxFuture;

use self::check::Names;
pub use self::check::{Csrf, CsrfBuilder, CsrfService};
use crate::{Session, SessionError, CSRF_KEY};

/// Bytes of the secret, and of each mask.
const SECRET_BYTES: usize = 32;

type Secret = [u8; SECRET_BYTES];

/// The CSRF token of a request's session, for its forms and scripts: an extractor.
///
/// Extracting it loads only [`CSRF_KEY`] of the session, and makes the secret if the session
/// has none yet (so a visitor shown a form gets a session). Every call of
/// [`masked`](Self::masked) (and every `Display`) gives a different text, and each verifies
/// until the secret rotates at sign-in or sign-out: put one in each form with
/// [`hidden_input`](Self::hidden_input), or in the `X-CSRF-Token` header of scripted requests.
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use actix_typed_session::CsrfToken;
///
/// #[get("/profile")]
/// async fn profile(csrf: CsrfToken) -> HttpResponse {
///     HttpResponse::Ok().content_type("text/html").body(format!(
///         "<form method=\"post\" action=\"/profile\">{}<input name=\"bio\">\
///          <button>Save</button></form>",
///         csrf.hidden_input()
///     ))
/// }
/// ```
#[derive(Clone)]
pub struct CsrfToken {
    secret: Secret,
    names: Arc<Names>,
}

impl fmt::Debug for CsrfToken {
    /// The secret is a credential: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfToken")
            .field("field", &self.names.field)
            .finish_non_exhaustive()
    }
}

impl CsrfToken {
    /// Returns the token of `session`, loading [`CSRF_KEY`] and making the secret if there is none
    /// (the extractor does this, with the field and header names of its [`Csrf`]; this uses
    /// the default names).
    ///
    /// ```
    /// # async fn f(req: actix_web::HttpRequest) -> Result<(), actix_typed_session::SessionError> {
    /// use actix_typed_session::{CsrfToken, SessionExt as _};
    ///
    /// let token = CsrfToken::load(&req.get_session()).await?;
    /// let header_value = token.masked();
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Session::load_keys`].
    pub async fn load(session: &Session) -> Result<Self, SessionError> {
        Self::load_named(session, Arc::default()).await
    }

    async fn load_named(session: &Session, names: Arc<Names>) -> Result<Self, SessionError> {
        session.load_keys(&[CSRF_KEY]).await?;
        let secret = match stored_secret(session)? {
            Some(secret) => secret,
            None => {
                let mut secret = [0; SECRET_BYTES];
                fill_random(&mut secret);
                let json = serde_json::to_string(&URL_SAFE_NO_PAD.encode(secret))
                    .expect("a string serializes");
                session.insert_json(CSRF_KEY.to_owned(), json);
                secret
            }
        };
        Ok(Self { secret, names })
    }

    /// Returns a masked token: new random text on every call, each one verifying against the
    /// session's secret.
    ///
    /// ```
    /// # async fn f(csrf: actix_typed_session::CsrfToken) {
    /// let (a, b) = (csrf.masked(), csrf.masked());
    /// assert_ne!(a, b); // both verify
    /// # }
    /// ```
    #[must_use]
    pub fn masked(&self) -> String {
        let mut token = [0; 2 * SECRET_BYTES];
        let (mask, masked) = token.split_at_mut(SECRET_BYTES);
        fill_random(mask);
        for ((out, secret), mask) in masked.iter_mut().zip(&self.secret).zip(&*mask) {
            *out = secret ^ mask;
        }
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Returns the form field the [`Csrf`] middleware reads the token from (`csrf_token` unless
    /// configured otherwise).
    ///
    /// ```
    /// # async fn f(csrf: actix_typed_session::CsrfToken) {
    /// assert_eq!(csrf.field_name(), "csrf_token");
    /// # }
    /// ```
    #[must_use]
    pub fn field_name(&self) -> &str {
        &self.names.field
    }

    /// Returns the header the [`Csrf`] middleware reads the token from (`x-csrf-token` unless
    /// configured otherwise), for scripts.
    ///
    /// ```
    /// # async fn f(csrf: actix_typed_session::CsrfToken) {
    /// assert_eq!(csrf.header_name(), "x-csrf-token");
    /// # }
    /// ```
    #[must_use]
    pub fn header_name(&self) -> &str {
        self.names.header.as_str()
    }

    /// Returns a hidden form field carrying a masked token:
    /// `<input type="hidden" name="csrf_token" value="…">`. The value is base64url, so it needs
    /// no escaping; the field name is the one configured.
    ///
    /// ```
    /// # async fn f(csrf: actix_typed_session::CsrfToken) {
    /// assert!(csrf.hidden_input().starts_with(r#"<input type="hidden" name="csrf_token" value=""#));
    /// # }
    /// ```
    #[must_use]
    pub fn hidden_input(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_attribute(&self.names.field),
            self.masked()
        )
    }
}

/// Writes a new [`masked`](CsrfToken::masked) token.
impl fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Extracting a `CsrfToken` loads only [`CSRF_KEY`] of the session, and takes the field and
/// header names of the [`Csrf`] middleware the request went through.
impl FromRequest for CsrfToken {
    type Error = SessionError;
    type Future = LocalBoxFuture<'static, Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = crate::session::attached(req.headers(), &req.extensions());
        let names = req.extensions().get::<Arc<Names>>().cloned();
        Box::pin(async move { Self::load_named(&session?, names.unwrap_or_default()).await })
    }
}

/// Whether `presented` is a masked token of the session's secret. Loads the whole session:
/// the handler that runs next usually takes it, and then pays no second round trip.
async fn verifies(session: &Session, presented: &str) -> Result<bool, SessionError> {
    session.load().await?;
    let Some(secret) = stored_secret(session)? else {
        return Ok(false);
    };
    let Some(unmasked) = unmask(presented) else {
        return Ok(false);
    };
    Ok(constant_time_eq(&unmasked, &secret))
}

/// The session's secret; `None` when it has none, or holds something that is not one (which
/// the next token replaces).
fn stored_secret(session: &Session) -> Result<Option<Secret>, SessionError> {
    let stored: Option<String> = match session.get(CSRF_KEY) {
        Err(SessionError::Deserialize { .. }) => None,
        other => other?,
    };
    let secret = stored.and_then(|text| URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok());
    Ok(secret)
}

/// The secret inside a masked token; `None` for anything that is not one.
fn unmask(token: &str) -> Option<Secret> {
    if token.len() != (2 * SECRET_BYTES).div_ceil(3) * 4 - 2 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (mask, masked) = bytes.split_at_checked(SECRET_BYTES)?;
    let mut secret = [0; SECRET_BYTES];
    for ((out, masked), mask) in secret.iter_mut().zip(masked).zip(mask) {
        *out = masked ^ mask;
    }
    Some(secret)
}

/// Equality whose time does not depend on where the first difference is.
fn constant_time_eq(a: &Secret, b: &Secret) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn fill_random(bytes: &mut [u8]) {
    getrandom::fill(bytes).expect("the operating system's random source failed");
}

/// `text` safe inside a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Why the [`Csrf`] middleware refused a request.
///
/// As a response it is a 403 (a 413 for [`FormTooLarge`](Self::FormTooLarge)) with the same
/// plain body whatever the reason: the reason goes to the log (a `warn` line naming it, never
/// the token). An app's `ErrorHandlers` can read it with `res.response().error()` to render a
/// page of its own.
///
/// ```
/// use actix_web::{http::StatusCode, ResponseError};
/// use actix_typed_session::CsrfRejection;
///
/// assert_eq!(CsrfRejection::Mismatch.status_code(), StatusCode::FORBIDDEN);
/// assert_eq!(CsrfRejection::CrossOrigin.reason(), "cross-origin");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfRejection {
    /// The request carried no token, in the header or the form field.
    #[error("CSRF token missing")]
    Missing,
    /// The token is not one of this session's (stale after a sign-in, from another session,
    /// or not a token at all).
    #[error("CSRF token mismatch")]
    Mismatch,
    /// The request says it comes from another origin (`Origin`, `Referer` or
    /// `Sec-Fetch-Site`), and the allow-list does not name it.
    #[error("cross-origin request")]
    CrossOrigin,
    /// The form body is over the limit the middleware reads for the token.
    #[error("form body too large to look for a CSRF token")]
    FormTooLarge,
}

impl CsrfRejection {
    /// Returns the reason as the log line names it: `missing`, `mismatch`, `cross-origin` or
    /// `form-too-large`.
    ///
    /// ```
    /// assert_eq!(actix_typed_session::CsrfRejection::Missing.reason(), "missing");
    /// ```
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Mismatch => "mismatch",
            Self::CrossOrigin => "cross-origin",
            Self::FormTooLarge => "form-too-large",
        }
    }
}

impl ResponseError for CsrfRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::FormTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Self::FormTooLarge => "Payload Too Large\n",
            _ => "Forbidden: the request could not be verified (CSRF). Reload the page and try again.\n",
        };
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .insert_header(("cache-control", "no-store"))
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_and_unmask_to_the_secret() {
        let token = CsrfToken {
            secret: [7; SECRET_BYTES],
            names: Arc::default(),
        };
        let (a, b) = (token.masked(), token.masked());
        assert_ne!(a, b);
        assert_eq!(unmask(&a), Some([7; SECRET_BYTES]));
        assert_eq!(unmask(&b), Some([7; SECRET_BYTES]));
        assert!(!a.contains(&URL_SAFE_NO_PAD.encode([7; SECRET_BYTES])));
    }

    #[test]
    fn anything_else_does_not_unmask() {
        let good = CsrfToken {
            secret: [1; SECRET_BYTES],
            names: Arc::default(),
        }
        .masked();
        assert_eq!(unmask(""), None);
        assert_eq!(unmask(&good[1..]), None);
        assert_eq!(unmask(&format!("{good}A")), None);
        assert_eq!(unmask(&good.replace(&good[..2], "*!")), None);
        assert_eq!(unmask(&URL_SAFE_NO_PAD.encode([1; SECRET_BYTES])), None);
    }

    #[test]
    fn equality_is_exact() {
        let a = [3; SECRET_BYTES];
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[SECRET_BYTES - 1] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}
