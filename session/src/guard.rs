//! Reading the session in actix guards: load it before routing with [`LoadSession`], then
//! guards (yours through `guard::fn_guard`, or [`signed_in`]) can read it.
//!
//! Guards are synchronous and run before any extractor, while sessions load lazily in the
//! first extractor: without [`LoadSession`] a guard would see nothing. Such a guard fails
//! loudly instead: in debug builds `GuardContext::get_session` panics naming the fix; in release
//! builds reads of the unloaded session return [`SessionError::NotLoaded`].

use std::rc::Rc;

use actix_service::{forward_ready, Service, Transform};
use actix_web::{
    body::EitherBody,
    dev::{ServiceRequest, ServiceResponse},
    guard::{Guard, GuardContext},
    HttpMessage as _, ResponseError as _,
};
use futures_util::future::{ready, LocalBoxFuture, Ready};

use crate::{SessionError, SessionExt as _};

/// Middleware that loads the session before routing, so guards can read it.
///
/// Register it inside [`SessionMiddleware`](crate::SessionMiddleware) (actix runs the last
/// `wrap` first), on the whole app or only on the scope whose routes have session guards: each
/// request through it costs the session's load (one store round trip for a request with a
/// session cookie, none without) whether or not a guard reads it. A store failure answers as
/// [`SessionError`] does: an opaque 500, or a 503 with `Retry-After` in an outage.
///
/// ```
/// use actix_web::{guard, web, App, HttpResponse};
/// use actix_typed_session::{store::MemoryStore, LoadSession, SessionExt as _, SessionMiddleware};
///
/// let key = actix_web::cookie::Key::generate();
/// let app = App::new()
///     .service(
///         web::scope("/admin")
///             .wrap(LoadSession) // only /admin pays for the early load
///             .route(
///                 "",
///                 web::get()
///                     .guard(guard::fn_guard(|ctx| {
///                         ctx.get_session().get::<bool>("admin").ok().flatten() == Some(true)
///                     }))
///                     .to(HttpResponse::Ok),
///             ),
///     )
///     .wrap(SessionMiddleware::new(MemoryStore::new(), key));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadSession;

impl<S, B> Transform<S, ServiceRequest> for LoadSession
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = LoadSessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(LoadSessionService {
            service: Rc::new(service),
        }))
    }
}

/// The service [`LoadSession`] wraps around a scope or app.
#[derive(Debug)]
pub struct LoadSessionService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for LoadSessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        Box::pin(async move {
            let session = crate::session::attached(req.headers(), &req.extensions());
            let loaded = match session {
                Ok(session) => session.load().await,
                Err(err) => Err(err),
            };
            if let Err(err) = loaded {
                let response = err.error_response();
                return Ok(req.into_response(response).map_into_right_body());
            }
            Ok(service.call(req).await?.map_into_left_body())
        })
    }
}

/// Returns a guard that matches when a user is signed in
/// ([`Session::sign_in`](crate::Session::sign_in)). Needs [`LoadSession`] in front of it.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use actix_typed_session::{guard, store::MemoryStore, LoadSession, SessionMiddleware};
///
/// let key = actix_web::cookie::Key::generate();
/// let app = App::new()
///     .route("/account", web::get().guard(guard::signed_in()).to(HttpResponse::Ok))
///     .wrap(LoadSession)
///     .wrap(SessionMiddleware::new(MemoryStore::new(), key));
/// ```
#[must_use]
pub fn signed_in() -> impl Guard {
    actix_web::guard::fn_guard(|ctx: &GuardContext<'_>| match ctx.get_session().user() {
        Ok(user) => user.is_some(),
        Err(err) => {
            log_unreadable(&err);
            false
        }
    })
}

fn log_unreadable(err: &SessionError) {
    crate::log::error_chain("a guard could not read the session; not matching", err);
}
