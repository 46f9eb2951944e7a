//! A real actix `HttpServer` on 127.0.0.1:0 with several workers, serving the harness's routes
//! behind the session middleware; stopped and joined when dropped.

use std::{net::SocketAddr, sync::mpsc, thread, time::Duration};

use actix_typed_session::{Session, SessionMiddleware, SessionStorage, UserSessionsError};
use actix_web::{cookie::Key, dev::ServerHandle, web, App, HttpResponse, HttpServer};

/// The middleware's default session cookie name.
pub const COOKIE_NAME: &str = "session";

/// The routes the harness drives (all GET). Each loads the session first and answers
/// `x-found: 1` when the request's cookie named a session the store had, so the checker knows
/// which session a request saw: `/get/{k}` (the value, or 404), `/set/{k}/{v}`,
/// `/remove/{k}`, `/renew`, `/purge`, and the sign-in routes of bench-server's table (the
/// same paths and library calls as `testing::routes`): `/login/{user}` (`Session::sign_in`:
/// a new id, the user bound and listed) and `/logout-everywhere`
/// (`Session::sign_out_everywhere`; answers the user whose sessions it ended, 404 when the
/// session is not signed in, the opaque 503 when the store is down).
pub fn routes(cfg: &mut web::ServiceConfig) {
    fn answer(found: bool, body: Option<String>) -> HttpResponse {
        let mut res = match body {
            Some(b) => HttpResponse::Ok().body(b),
            None => HttpResponse::NotFound().finish(),
        };
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-found"),
            actix_web::http::header::HeaderValue::from_static(if found { "1" } else { "0" }),
        );
        res
    }
    // Reading a key loads the session; after that `id()` is `Some` only if the store had it.
    async fn load(s: &Session, k: &str) -> actix_web::Result<(bool, Option<String>)> {
        let v = s.get::<String>(k)?;
        Ok((s.id().is_some(), v))
    }
    async fn get(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        let (found, v) = load(&s, &k).await?;
        Ok(answer(found, v))
    }
    async fn set(s: Session, p: web::Path<(String, String)>) -> actix_web::Result<HttpResponse> {
        let (k, v) = p.into_inner();
        let (found, _) = load(&s, &k).await?;
        s.insert(k, v)?;
        Ok(answer(found, Some(String::new())))
    }
    async fn remove(s: Session, k: web::Path<String>) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, &k).await?;
        s.remove(&k)?;
        Ok(answer(found, Some(String::new())))
    }
    async fn renew(s: Session) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        s.renew();
        Ok(answer(found, Some(String::new())))
    }
    async fn purge(s: Session) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        s.purge();
        Ok(answer(found, Some(String::new())))
    }
    async fn login(s: Session, user: web::Path<String>) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        s.sign_in(user.into_inner())?;
        Ok(answer(found, Some(String::new())))
    }
    async fn logout_everywhere(s: Session) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        let Some(user) = s.user()? else {
            return Ok(answer(found, None));
        };
        Ok(match s.sign_out_everywhere().await {
            Ok(_) => answer(found, Some(user)),
            Err(UserSessionsError::NotSignedIn) => answer(found, None),
            Err(e) => actix_web::ResponseError::error_response(&e),
        })
    }
    cfg.route("/get/{k}", web::get().to(get))
        .route("/set/{k}/{v}", web::get().to(set))
        .route("/remove/{k}", web::get().to(remove))
        .route("/renew", web::get().to(renew))
        .route("/purge", web::get().to(purge))
        .route("/login/{user}", web::get().to(login))
        .route("/logout-everywhere", web::get().to(logout_everywhere));
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server with `workers` worker threads on the store `make` builds (called on the
    /// server's runtime, so pools may start tasks there).
    ///
    /// # Panics
    /// When the server does not bind.
    pub fn start<F, S>(workers: usize, make: F) -> Self
    where
        F: FnOnce() -> S + Send + 'static,
        S: Into<SessionStorage>,
    {
        Self::start_on(0, workers, make)
    }

    /// [`start`](Self::start) on a given port (0: any free one), to come back where a killed
    /// server was.
    ///
    /// # Panics
    /// When the server does not bind.
    pub fn start_on<F, S>(port: u16, workers: usize, make: F) -> Self
    where
        F: FnOnce() -> S + Send + 'static,
        S: Into<SessionStorage>,
    {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let middleware = SessionMiddleware::builder(make(), Key::from(&[7u8; 64]))
                    .cookie_secure(false)
                    .build();
                let server =
                    HttpServer::new(move || App::new().wrap(middleware.clone()).configure(routes))
                        .workers(workers)
                        .keep_alive(Duration::from_secs(120))
                        .shutdown_timeout(1)
                        .disable_signals()
                        .bind(("127.0.0.1", port))
                        .expect("bind 127.0.0.1:0");
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                let _ = server.await;
            });
        });
        let (addr, handle) = rx.recv().expect("the server started");
        Self {
            addr,
            handle,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The session cookie's name.
    #[must_use]
    pub fn cookie_name(&self) -> &'static str {
        COOKIE_NAME
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits.
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
