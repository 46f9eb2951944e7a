//! The [`SignedIn`] extractor: the request's signed-in user, or a refusal (401, or a redirect
//! to the sign-in page) before the handler runs.

use std::ops::Deref;

use actix_web::{
    dev::Payload,
    http::{header, StatusCode},
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError,
};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::{session::attached, store::USER_KEY, SessionError};

/// The signed-in user of the request, as a handler argument: `U` is the id type the user was
/// signed in with ([`Session::sign_in`](crate::Session::sign_in)), a `String` unless you say
/// otherwise. A request without a signed-in user never reaches the handler: it is answered
/// `401 Unauthorized`, or a `303 See Other` to your sign-in page when a [`SignedInConfig`] says
/// so.
///
/// Extracting it loads only the user binding ([`USER_KEY`]) of the session, in the same load
/// as any other extractor of the request: it works beside [`Session`](crate::Session), typed
/// `#[derive(SessionData)]` extractors, [`Flash`](crate::Flash) and
/// [`CsrfToken`](crate::CsrfToken).
///
/// ```
/// use actix_web::{get, web, App, HttpResponse};
/// use actix_typed_session::{store::MemoryStore, SessionMiddleware, SignedIn, SignedInConfig};
///
/// #[get("/api/me")]
/// async fn me(SignedIn(user): SignedIn) -> String {
///     format!("hello {user}") // anonymous requests got a 401
/// }
///
/// #[get("/orders")]
/// async fn orders(user: SignedIn<u64>) -> HttpResponse {
///     HttpResponse::Ok().body(format!("orders of user {}", *user))
/// }
///
/// let key = actix_web::cookie::Key::generate();
/// let app = App::new()
///     .service(me)
///     // HTML pages send anonymous visitors to the sign-in form instead.
///     .service(web::scope("").app_data(SignedInConfig::redirect_to("/login")).service(orders))
///     .wrap(SessionMiddleware::new(MemoryStore::new(), key));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn<U = String>(pub U);

impl<U> SignedIn<U> {
    /// Returns the user id.
    ///
    /// ```
    /// use actix_typed_session::SignedIn;
    ///
    /// assert_eq!(SignedIn(7u64).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> U {
        self.0
    }
}

impl<U> Deref for SignedIn<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.0
    }
}

/// Loads the user binding only, and refuses anonymous requests as the [`SignedInConfig`] in
/// the app data says (a 401 without one).
impl<U: DeserializeOwned + 'static> FromRequest for SignedIn<U> {
    type Error = SignedInError;
    type Future = LocalBoxFuture<'static, Result<Self, SignedInError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = attached(req.headers(), &req.extensions());
        let redirect = req
            .app_data::<SignedInConfig>()
            .and_then(|config| config.redirect.clone());
        Box::pin(async move {
            let session = session?;
            session.load_keys(&[USER_KEY]).await?;
            match session.user_as::<U>()? {
                Some(user) => Ok(Self(user)),
                None => Err(SignedInError::NotSignedIn { redirect }),
            }
        })
    }
}

/// How [`SignedIn`] answers a request without a signed-in user: `401 Unauthorized` (the
/// default, for APIs) or a `303 See Other` to a sign-in page (for HTML apps). Put it in the
/// app data of the app, a scope or a resource (`.app_data(SignedInConfig::…)`); the nearest
/// one wins.
///
/// ```
/// use actix_web::{web, App};
/// use actix_typed_session::SignedInConfig;
///
/// let app = App::new()
///     .app_data(SignedInConfig::redirect_to("/login"))
///     .service(web::scope("/api").app_data(SignedInConfig::unauthorized()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedInConfig {
    redirect: Option<String>,
}

impl SignedInConfig {
    /// Anonymous requests are answered `401 Unauthorized` (as without a config).
    ///
    /// ```
    /// # use actix_typed_session::SignedInConfig;
    /// assert_eq!(SignedInConfig::unauthorized(), SignedInConfig::default());
    /// ```
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::default()
    }

    /// Anonymous requests are answered `303 See Other` with `Location: location` (a path such
    /// as `/login`, or a URL).
    ///
    /// ```
    /// # use actix_typed_session::SignedInConfig;
    /// let config = SignedInConfig::redirect_to("/login");
    /// # assert_ne!(config, SignedInConfig::default());
    /// ```
    #[must_use]
    pub fn redirect_to(location: impl Into<String>) -> Self {
        Self {
            redirect: Some(location.into()),
        }
    }
}

/// Why a [`SignedIn`] extraction refused the request.
///
/// As a response: [`NotSignedIn`](Self::NotSignedIn) is a `401 Unauthorized`, or a `303 See
/// Other` to the configured sign-in page; [`Session`](Self::Session) is the opaque 500 (or 503)
/// of a [`SessionError`].
///
/// ```
/// use actix_web::{http::StatusCode, ResponseError};
/// use actix_typed_session::SignedInError;
///
/// let api = SignedInError::NotSignedIn { redirect: None };
/// assert_eq!(api.status_code(), StatusCode::UNAUTHORIZED);
/// let html = SignedInError::NotSignedIn { redirect: Some("/login".into()) };
/// assert_eq!(html.status_code(), StatusCode::SEE_OTHER);
/// assert_eq!(html.error_response().headers().get("location").unwrap(), "/login");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignedInError {
    /// The session has no signed-in user.
    #[error("no user is signed in on this session")]
    NotSignedIn {
        /// Where the response sends the visitor ([`SignedInConfig::redirect_to`]); `None`
        /// answers 401.
        redirect: Option<String>,
    },
    /// The session could not be loaded, or its user is not a `U` (signed in with another
    /// id type).
    #[error("could not read the signed-in user")]
    Session(#[from] SessionError),
}

impl ResponseError for SignedInError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotSignedIn { redirect: None } => StatusCode::UNAUTHORIZED,
            Self::NotSignedIn { redirect: Some(_) } => StatusCode::SEE_OTHER,
            Self::Session(err) => err.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::NotSignedIn { redirect: None } => HttpResponse::Unauthorized()
                .content_type("text/plain; charset=utf-8")
                .body("Unauthorized"),
            Self::NotSignedIn {
                redirect: Some(location),
            } => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.as_str()))
                .finish(),
            Self::Session(err) => err.error_response(),
        }
    }
}
