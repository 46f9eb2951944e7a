//! Getting the session of a request: the lazy slot the middleware leaves, [`SessionExt`], and
//! the [`Session`] extractor.

use std::{
    cell::{OnceCell, Ref, RefMut},
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    dev::{Extensions, Payload, ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
    FromRequest, HttpMessage, HttpRequest,
};
use futures_util::future::LocalBoxFuture;

use super::{Backend, Session};
use crate::{cookie::Tokens, transport::request_token, SessionError};

/// Gives the [`Session`] of a request to code that is not a handler argument: your own
/// middleware, guards, or error handlers. Such handles are not loaded: call
/// [`Session::load`] first.
///
/// ```
/// use actix_web::HttpRequest;
/// use actix_typed_session::SessionExt as _;
///
/// async fn user_id(req: HttpRequest) -> Result<Option<u64>, actix_typed_session::SessionError> {
///     let session = req.get_session();
///     session.load().await?;
///     session.get("user_id")
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// // In a unit test, without the middleware: the request's own detached session.
/// let req = actix_web::test::TestRequest::default().to_http_request();
/// req.get_session().insert("user_id", 7u64)?;
/// assert_eq!(user_id(req).await?, Some(7));
/// # Ok::<(), actix_typed_session::SessionError>(())
/// # }).unwrap();
/// ```
pub trait SessionExt {
    /// The request's session handle. On a request that did not pass through
    /// [`SessionMiddleware`](crate::SessionMiddleware) (a unit test's
    /// `TestRequest::default().to_http_request()`, say), a [`Session::detached`] one: empty, in
    /// memory, kept in the request's extensions so that every later `get_session()` of that
    /// request shares its data, and saved nowhere.
    ///
    /// ```
    /// use actix_web::test::TestRequest;
    /// use actix_typed_session::SessionExt as _;
    ///
    /// let req = TestRequest::default().to_http_request();
    /// req.get_session().insert("user_id", 7u64).unwrap();
    /// assert_eq!(req.get_session().get::<u64>("user_id").unwrap(), Some(7));
    /// ```
    fn get_session(&self) -> Session;
}

/// What the middleware leaves in a request's extensions. The session handle is built on the
/// first ask (reading the cookie then), so a request whose handler never takes the session
/// costs the middleware one small allocation and nothing else.
pub(crate) struct RequestSlot {
    shared: Arc<Backend>,
    session: OnceCell<Session>,
}

impl RequestSlot {
    pub(crate) fn new(shared: Arc<Backend>) -> Self {
        Self {
            shared,
            session: OnceCell::new(),
        }
    }

    pub(crate) fn shared(&self) -> &Backend {
        &self.shared
    }

    /// The handle, if anything asked for it.
    pub(crate) fn taken(&self) -> Option<&Session> {
        self.session.get()
    }

    /// The handle, built from the request's session token (cookie or header) on the first
    /// call.
    pub(crate) fn session(&self, headers: &HeaderMap) -> &Session {
        self.session.get_or_init(|| {
            let (raw, carrier) = request_token(&self.shared.config, headers);
            // Only an app that configured the bridge looks for the old cookie.
            let old = match &self.shared.import {
                Some(import) => import.cookies(headers),
                None => Tokens::default(),
            };
            Session::new(Some(self.shared.clone()), raw, carrier, old)
        })
    }
}

/// A session made for a request that did not pass through the middleware, kept in its
/// extensions so that every `get_session()` of that request shares it.
#[derive(Clone)]
struct DetachedSlot(Session);

fn from_extensions(headers: &HeaderMap, ext: &Extensions) -> Option<Session> {
    if let Some(slot) = ext.get::<Rc<RequestSlot>>() {
        return Some(slot.session(headers).clone());
    }
    ext.get::<DetachedSlot>().map(|slot| slot.0.clone())
}

/// The request's session, or the detached one of a request without the middleware, made on
/// the first ask.
fn session_of<'a>(
    headers: &HeaderMap,
    ext: impl FnOnce() -> Ref<'a, Extensions>,
    ext_mut: impl FnOnce() -> RefMut<'a, Extensions>,
) -> Session {
    if let Some(session) = from_extensions(headers, &ext()) {
        return session;
    }
    let session = Session::detached();
    ext_mut().insert(DetachedSlot(session.clone()));
    session
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        session_of(
            self.headers(),
            || self.extensions(),
            || self.extensions_mut(),
        )
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Session {
        session_of(
            self.headers(),
            || self.extensions(),
            || self.extensions_mut(),
        )
    }
}

impl<B> SessionExt for ServiceResponse<B> {
    fn get_session(&self) -> Session {
        self.request().get_session()
    }
}

/// Guards run before any extractor, so a guard sees a loaded session only when something loaded
/// it before routing: [`LoadSession`](crate::LoadSession). Asking for a never-loaded session in
/// a guard panics in debug builds, naming the fix; in release builds its reads fail with
/// [`SessionError::NotLoaded`] (a guard that reads them with `.ok()` then does not match).
impl SessionExt for actix_web::guard::GuardContext<'_> {
    fn get_session(&self) -> Session {
        let session = session_of(
            &self.head().headers,
            || self.req_data(),
            || self.req_data_mut(),
        );
        debug_assert!(
            session.was_accessed(),
            "a guard asked for the session before it was loaded: guards run before extractors, \
             so wrap the app or scope with `actix_typed_session::LoadSession` \
             (after `SessionMiddleware`) to load it before routing"
        );
        session
    }
}

/// The session that extractors and library middleware hand to app code: the middleware's, or
/// the detached one that an earlier `get_session()` put into a request without it (a unit test).
///
/// # Errors
/// [`SessionError::MissingMiddleware`] when the request has neither: an app that forgot
/// `App::wrap(SessionMiddleware…)` answers an opaque 500 naming the fix in the log, instead of
/// quietly forgetting every session it is given.
pub(crate) fn attached(headers: &HeaderMap, ext: &Extensions) -> Result<Session, SessionError> {
    from_extensions(headers, ext).ok_or(SessionError::MissingMiddleware)
}

/// Extracting a `Session` loads it (once per request, shared with other extractors).
impl FromRequest for Session {
    type Error = SessionError;
    type Future = LocalBoxFuture<'static, Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = attached(req.headers(), &req.extensions());
        Box::pin(async move {
            let session = session?;
            session.load().await?;
            Ok(session)
        })
    }
}
