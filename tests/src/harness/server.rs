//! A real actix `HttpServer` on 127.0.0.1:0 with several workers, serving the harness's routes
//! behind the session middleware; stopped and joined when dropped.

use std::{
    collections::HashMap,
    fs,
    net::SocketAddr,
    path::PathBuf,
    sync::{mpsc, Arc, Mutex},
    thread,
    time::Duration,
};

use actix_typed_session::{Session, SessionMiddleware, SessionStorage, UserSessionsError};
use actix_web::{cookie::Key, dev::ServerHandle, web, App, HttpResponse, HttpServer};

/// Each user's credential version (epoch), as the harness's app keeps it: a sign-in is bound to
/// the current one, and a log-out-everywhere moves its user to the next before ending the
/// user's sessions. In memory for one process, or in a directory that processes sharing a store
/// share (and that outlives a killed one).
#[derive(Debug, Clone)]
pub enum Epochs {
    /// One process's.
    Memory(Arc<Mutex<HashMap<String, u64>>>),
    /// A file per user in this directory.
    Dir(PathBuf),
}

impl Epochs {
    /// Kept in memory.
    #[must_use]
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// `user`'s current epoch (0 before any log-out-everywhere).
    #[must_use]
    pub fn current(&self, user: &str) -> u64 {
        match self {
            Self::Memory(map) => map.lock().unwrap().get(user).copied().unwrap_or(0),
            Self::Dir(dir) => fs::read_to_string(dir.join(user))
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(0),
        }
    }

    /// Moves `user` to a new epoch and returns it. Two processes bumping at once may both
    /// write the same next value: either way every session bound before is outdated.
    ///
    /// # Panics
    /// When the directory cannot be written.
    #[must_use]
    pub fn bump(&self, user: &str) -> u64 {
        match self {
            Self::Memory(map) => {
                let mut map = map.lock().unwrap();
                let epoch = map.entry(user.to_owned()).or_insert(0);
                *epoch += 1;
                *epoch
            }
            Self::Dir(dir) => {
                let next = self.current(user) + 1;
                let tmp = tempfile::NamedTempFile::new_in(dir).expect("a temp file for an epoch");
                fs::write(tmp.path(), next.to_string()).expect("write an epoch");
                tmp.persist(dir.join(user)).expect("replace an epoch");
                next
            }
        }
    }
}

/// The middleware's default session cookie name.
pub const COOKIE_NAME: &str = "session";

/// The routes the harness drives (all GET). Each loads the session first and answers
/// `x-found: 1` when the request's cookie named a session the store had, so the checker knows
/// which session a request saw: `/get/{k}` (the value, or 404), `/set/{k}/{v}`,
/// `/remove/{k}`, `/renew`, `/purge`, and the sign-in routes of bench-server's table (the
/// same paths as `testing::routes`): `/login/{user}` (`Session::sign_in_with_epoch` at the
/// user's current [`Epochs`] value: a new id, the user bound and listed; `x-epoch` says which)
/// and `/logout-everywhere` (moves the user to the next epoch, reported in `x-epoch`, then
/// `Session::sign_out_everywhere`, or a sign-out where the store cannot list users; answers
/// the user, 404 when the session is not signed in, the opaque 503 when the store is down).
/// The [`Epochs`] are the app's data. On a sealed-cookie store, `x-found` says the cookie
/// opened a session that holds something.
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
        Ok((s.id().is_some() || !s.entries()?.is_empty(), v))
    }
    fn with_epoch(mut res: HttpResponse, epoch: u64) -> HttpResponse {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-epoch"),
            epoch.into(),
        );
        res
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
    async fn login(
        s: Session,
        epochs: web::Data<Epochs>,
        user: web::Path<String>,
    ) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        let epoch = epochs.current(&user);
        s.sign_in_with_epoch(user.into_inner(), epoch.to_string())?;
        Ok(with_epoch(answer(found, Some(String::new())), epoch))
    }
    async fn logout_everywhere(
        s: Session,
        epochs: web::Data<Epochs>,
    ) -> actix_web::Result<HttpResponse> {
        let (found, _) = load(&s, "k0").await?;
        let Some(user) = s.user()? else {
            return Ok(answer(found, None));
        };
        let epoch = epochs.bump(&user);
        Ok(match s.sign_out_everywhere().await {
            Ok(_) => with_epoch(answer(found, Some(user)), epoch),
            Err(UserSessionsError::Unsupported(_)) => {
                s.sign_out();
                with_epoch(answer(found, Some(user)), epoch)
            }
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
        Self::launch(0, workers, Epochs::memory(), true, make)
    }

    /// [`start`](Self::start) without the middleware's epoch check: a log-out-everywhere then
    /// rests on the store's list of the user's sessions alone (for the harness's self-tests).
    ///
    /// # Panics
    /// When the server does not bind.
    pub fn start_without_epoch_checks<F, S>(workers: usize, make: F) -> Self
    where
        F: FnOnce() -> S + Send + 'static,
        S: Into<SessionStorage>,
    {
        Self::launch(0, workers, Epochs::memory(), false, make)
    }

    /// [`start`](Self::start) on a given port (0: any free one), to come back where a killed
    /// server was.
    ///
    /// # Panics
    /// When the server does not bind.
    pub fn start_on<F, S>(port: u16, workers: usize, epochs: Epochs, make: F) -> Self
    where
        F: FnOnce() -> S + Send + 'static,
        S: Into<SessionStorage>,
    {
        Self::launch(port, workers, epochs, true, make)
    }

    fn launch<F, S>(port: u16, workers: usize, epochs: Epochs, check: bool, make: F) -> Self
    where
        F: FnOnce() -> S + Send + 'static,
        S: Into<SessionStorage>,
    {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let checked = epochs.clone();
                let mut builder =
                    SessionMiddleware::builder(make(), Key::from(&[7u8; 64])).cookie_secure(false);
                if check {
                    builder = builder.credential_epoch(move |user: String| {
                        let epoch = checked.current(&user);
                        async move { Ok::<_, std::convert::Infallible>(Some(epoch.to_string())) }
                    });
                }
                let middleware = builder.build();
                let epochs = web::Data::new(epochs);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(epochs.clone())
                        .wrap(middleware.clone())
                        .configure(routes)
                })
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
