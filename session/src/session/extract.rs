//! Getting the session of a request: the lazy slot the middleware leaves, [`SessionExt`], and
//! the [`Session`] extractor.

use std::{cell::OnceCell, rc::Rc, sync::Arc};

use actix_web::{
    dev::{Extensions, Payload, ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
    FromRequest, HttpMessage, HttpRequest,
};
use futures_util::future::LocalBoxFuture;

use super::{Backend, Session};
use crate::{
    cookie::Tokens,
    transport::{request_token, Carrier},
    SessionError,
};

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
/// ```
pub trait SessionExt {
    /// The request's session handle, or a detached one whose [`Session::load`] fails with
    /// [`SessionError::MissingMiddleware`] when the middleware is not registered.
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
            Session::new(Some(self.shared.clone()), raw, carrier)
        })
    }
}

fn from_extensions(headers: &HeaderMap, ext: &Extensions) -> Session {
    ext.get::<Rc<RequestSlot>>().map_or_else(
        || Session::new(None, Tokens::default(), Carrier::Cookie),
        |slot| slot.session(headers).clone(),
    )
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        from_extensions(self.headers(), &self.extensions())
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Session {
        from_extensions(self.headers(), &self.extensions())
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
        let session = from_extensions(&self.head().headers, &self.req_data());
        debug_assert!(
            session.was_accessed(),
            "a guard asked for the session before it was loaded: guards run before extractors, \
             so wrap the app or scope with `actix_typed_session::LoadSession` \
             (after `SessionMiddleware`) to load it before routing"
        );
        session
    }
}

/// Extracting a `Session` loads it (once per request, shared with other extractors).
impl FromRequest for Session {
    type Error = SessionError;
    type Future = LocalBoxFuture<'static, Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        Box::pin(async move {
            session.load().await?;
            Ok(session)
        })
    }
}
