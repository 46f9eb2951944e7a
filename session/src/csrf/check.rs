//! The [`Csrf`] middleware: what it checks on each unsafe request, and where it finds the
//! token (a header, or a field of a URL-encoded form body that it reads and puts back).

use std::{
    future::{ready, Ready},
    rc::Rc,
    sync::Arc,
};

use actix_service::{forward_ready, Service, Transform};
use actix_web::{
    body::EitherBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        header::{HeaderMap, HeaderName, CONTENT_LENGTH},
        Method,
    },
    web::BytesMut,
    HttpMessage as _,
};
use futures_util::{future::LocalBoxFuture, StreamExt as _};
use percent_encoding::percent_decode_str;

use super::{origin, verifies, CsrfRejection};
use crate::transport::Carrier;

/// The field and header a token is read from; the [`CsrfToken`](super::CsrfToken) extractor
/// finds them in the request to name its hidden input.
#[derive(Debug, Clone)]
pub(super) struct Names {
    pub(super) field: String,
    pub(super) header: HeaderName,
}

impl Default for Names {
    fn default() -> Self {
        Self {
            field: "csrf_token".to_owned(),
            header: HeaderName::from_static("x-csrf-token"),
        }
    }
}

#[derive(Debug)]
struct Settings {
    names: Arc<Names>,
    /// Normalized origins.
    allowed: Vec<String>,
    exempt: Vec<String>,
    form_limit: usize,
    header_transport: bool,
}

/// Middleware that refuses forged requests: every request with an unsafe method (anything
/// but GET, HEAD, OPTIONS and TRACE) must carry a [`CsrfToken`](super::CsrfToken) of its
/// session and must not say it comes from another origin.
///
/// Register it inside [`SessionMiddleware`](crate::SessionMiddleware) (actix runs the last
/// `wrap` first). For each unsafe request it:
/// 1. refuses it when `Origin` (or, without one, `Referer`) names another origin than the
///    request's own scheme, host and port, or `Sec-Fetch-Site` says `cross-site` or
///    `same-site`, unless [`allow_origin`](CsrfBuilder::allow_origin) lists that origin. A
///    request with none of these headers is judged by its token alone;
/// 2. takes the token from the `X-CSRF-Token` header, or else from the `csrf_token` field of
///    an `application/x-www-form-urlencoded` body (read up to 64 KiB, then handed on intact,
///    so `web::Form` still works). Multipart and JSON bodies need the header;
/// 3. loads the session (one store round trip, which the handler then shares) and compares.
///
/// A refusal is a [`CsrfRejection`]: a 403 with a plain body and a `warn` log line naming
/// the reason (`missing`, `mismatch`, `cross-origin`), never the token. Safe methods and
/// [`exempt`](CsrfBuilder::exempt) paths pass untouched, with no store call.
///
/// With a header [`Transport`](crate::Transport), requests whose session token came in a
/// header are not checked unless [`check_header_transport`](CsrfBuilder::check_header_transport)
/// says so: a browser attaches no header on its own, so a forged request carries no session
/// (no ambient credential). Requests that carry the cookie (`Transport::both()`) are checked.
///
/// Behind a reverse proxy, forward the public host and scheme (`Forwarded`, or
/// `X-Forwarded-Host` and `X-Forwarded-Proto`), or allow the public origin, or every browser
/// POST looks cross-origin.
///
/// ```
/// use actix_web::{cookie::Key, post, web, App, HttpResponse};
/// use actix_typed_session::{store::MemoryStore, Csrf, SessionMiddleware};
///
/// #[post("/profile")]
/// async fn save(form: web::Form<std::collections::HashMap<String, String>>) -> HttpResponse {
///     HttpResponse::SeeOther().insert_header(("Location", "/profile")).finish()
/// }
///
/// let app = App::new()
///     .service(save)
///     .wrap(Csrf::new()) // inside: checks after the session middleware set up the request
///     .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()));
/// ```
#[derive(Debug, Clone)]
pub struct Csrf {
    settings: Arc<Settings>,
}

impl Csrf {
    /// Creates the middleware with the documented defaults (see [`CsrfBuilder`]).
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Creates a builder to change the defaults.
    pub fn builder() -> CsrfBuilder {
        CsrfBuilder {
            settings: Settings {
                names: Arc::default(),
                allowed: Vec::new(),
                exempt: Vec::new(),
                form_limit: 64 * 1024,
                header_transport: false,
            },
        }
    }
}

impl Default for Csrf {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a [`Csrf`]. Every setting has a default:
///
/// | setting | default |
/// |---|---|
/// | form field | `csrf_token` |
/// | header | `X-CSRF-Token` |
/// | allowed other origins | none |
/// | exempt paths | none |
/// | form body read for the field | 64 KiB |
/// | requests whose session token is in a header | not checked |
///
/// ```
/// use actix_web::http::header::HeaderName;
/// use actix_typed_session::Csrf;
///
/// let csrf = Csrf::builder()
///     .field_name("authenticity_token")
///     .header_name(HeaderName::from_static("x-xsrf-token"))
///     .allow_origin("https://admin.example.com")
///     .exempt("/webhooks/payment") // checked by its own signature instead
///     .form_limit(256 * 1024)
///     .check_header_transport(false)
///     .build();
/// ```
#[must_use]
#[derive(Debug)]
pub struct CsrfBuilder {
    settings: Settings,
}

impl CsrfBuilder {
    /// Sets the form field the token is read from.
    pub fn field_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings.names).field = name.into();
        self
    }

    /// Sets the header the token is read from.
    pub fn header_name(mut self, name: HeaderName) -> Self {
        Arc::make_mut(&mut self.settings.names).header = name;
        self
    }

    /// Accepts unsafe requests from `origin` (`scheme://host[:port]`) too, as from the
    /// request's own origin: another origin of yours whose pages post here. They still need
    /// the token.
    ///
    /// # Panics
    /// When `origin` is not `scheme://host[:port]`: a mistake in the app's configuration.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        let normalized = origin::normalize(origin)
            .unwrap_or_else(|| panic!("allow_origin: {origin:?} is not scheme://host[:port]"));
        self.settings.allowed.push(normalized);
        self
    }

    /// Leaves requests to `path` (exactly) unchecked: a webhook that proves itself otherwise,
    /// say. To leave a whole scope out, wrap only the scopes that need the check instead.
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.settings.exempt.push(path.into());
        self
    }

    /// Sets the most bytes of a URL-encoded form body read to find the token; a larger body
    /// without the header is refused with a 413.
    pub fn form_limit(mut self, bytes: usize) -> Self {
        self.settings.form_limit = bytes;
        self
    }

    /// Sets whether requests whose session token came in a header (a header
    /// [`Transport`](crate::Transport)) are checked too. Off by default: no cookie means no
    /// ambient credential for a forged request to ride on.
    pub fn check_header_transport(mut self, check: bool) -> Self {
        self.settings.header_transport = check;
        self
    }

    /// Builds the middleware.
    pub fn build(self) -> Csrf {
        Csrf {
            settings: Arc::new(self.settings),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Csrf
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CsrfService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CsrfService {
            service: Rc::new(service),
            settings: self.settings.clone(),
        }))
    }
}

/// The service [`Csrf`] wraps around a scope or app.
#[derive(Debug)]
pub struct CsrfService<S> {
    service: Rc<S>,
    settings: Arc<Settings>,
}

impl<S, B> Service<ServiceRequest> for CsrfService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        req.extensions_mut().insert(self.settings.names.clone());
        let service = self.service.clone();
        let settings = self.settings.clone();
        Box::pin(async move {
            match settings.check(&mut req).await {
                Ok(None) => Ok(service.call(req).await?.map_into_left_body()),
                Ok(Some(rejection)) => {
                    tracing::warn!(
                        reason = rejection.reason(),
                        method = %req.method(),
                        path = req.path(),
                        "CSRF check refused the request"
                    );
                    Ok(req.error_response(rejection).map_into_right_body())
                }
                Err(err) => Ok(req.error_response(err).map_into_right_body()),
            }
        })
    }
}

impl Settings {
    /// Why `req` must be refused, if it must.
    ///
    /// # Errors
    /// The session could not be loaded, or the body could not be read.
    async fn check(
        &self,
        req: &mut ServiceRequest,
    ) -> Result<Option<CsrfRejection>, actix_web::Error> {
        if is_safe(req.method()) || self.exempt.iter().any(|path| path == req.path()) {
            return Ok(None);
        }
        let session = crate::session::attached(req.headers(), &req.extensions())?;
        if session.carrier() == Carrier::Header && !self.header_transport {
            return Ok(None);
        }
        let own = {
            let info = req.connection_info();
            origin::own(info.scheme(), info.host())
        };
        if origin::is_cross_origin(req.headers(), &own, &self.allowed) {
            return Ok(Some(CsrfRejection::CrossOrigin));
        }
        let token = match header_token(req.headers(), &self.names.header) {
            Some(token) => token,
            None => match self.form_token(req).await? {
                Ok(Some(token)) => token,
                Ok(None) => return Ok(Some(CsrfRejection::Missing)),
                Err(rejection) => return Ok(Some(rejection)),
            },
        };
        let verified = verifies(&session, &token).await?;
        Ok((!verified).then_some(CsrfRejection::Mismatch))
    }

    /// The token field of a URL-encoded form body; the body is put back for the handler.
    ///
    /// # Errors
    /// The body could not be read (a client that stopped sending, say).
    async fn form_token(
        &self,
        req: &mut ServiceRequest,
    ) -> Result<Result<Option<String>, CsrfRejection>, actix_web::Error> {
        if req.content_type() != "application/x-www-form-urlencoded" {
            return Ok(Ok(None));
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|len| len > self.form_limit) {
            return Ok(Err(CsrfRejection::FormTooLarge));
        }
        let mut payload = req.take_payload();
        let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > self.form_limit {
                return Ok(Err(CsrfRejection::FormTooLarge));
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        let token = std::str::from_utf8(&body)
            .ok()
            .and_then(|text| form_field(text, &self.names.field))
            .filter(|token| !token.is_empty());
        req.set_payload(Payload::from(body));
        Ok(Ok(token))
    }
}

fn is_safe(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(method)
}

fn header_token(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The first value of field `name` in URL-encoded `form`, decoded.
fn form_field(form: &str, name: &str) -> Option<String> {
    let decode = |text: &str| {
        percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    form.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key)? == name).then(|| decode(value)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_found_and_decoded() {
        let form = "item=4&csrf_token=ab-c_d%2B+e&csrf_token=second";
        assert_eq!(form_field(form, "csrf_token").as_deref(), Some("ab-c_d+ e"));
        assert_eq!(
            form_field("csrf%5Ftoken=x", "csrf_token").as_deref(),
            Some("x")
        );
        assert_eq!(form_field("item=4&csrf_tokenx=y", "csrf_token"), None);
        assert_eq!(form_field("", "csrf_token"), None);
        assert_eq!(form_field("csrf_token", "csrf_token").as_deref(), Some(""));
    }

    #[test]
    fn only_get_head_options_and_trace_are_safe() {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(is_safe(&method), "{method}");
        }
        let propfind = Method::from_bytes(b"PROPFIND").unwrap();
        for method in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            propfind,
        ] {
            assert!(!is_safe(&method), "{method}");
        }
    }
}
