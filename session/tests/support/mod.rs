//! Test support: the routes most tests serve, a store wrapper that counts calls, records the TTLs it is given and can fail on
//! demand, and a log capture.

#![allow(dead_code)]

use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
        Arc, Mutex,
    },
    time::{Duration, SystemTime},
};

use actix_typed_session::{
    store::{ChangeSet, Entries, Keys, MemoryStore, SaveOutcome, SessionStore},
    testing, Clock, Session, SessionId, StoreError,
};
use actix_web::{
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test, web, HttpResponse,
};

/// [`testing::suite_routes`] plus `/ttl/{secs}` (`Session::set_ttl`, e.g. "remember me") and `/id`
/// (the session's id, empty when it has none).
pub fn routes(cfg: &mut web::ServiceConfig) {
    async fn set_ttl(s: Session, secs: web::Path<u64>) -> HttpResponse {
        s.set_ttl(Duration::from_secs(*secs));
        HttpResponse::Ok().finish()
    }
    async fn id(s: Session) -> HttpResponse {
        HttpResponse::Ok().body(s.id().map(|i| i.to_string()).unwrap_or_default())
    }
    testing::suite_routes(cfg);
    cfg.route("/ttl/{secs}", web::get().to(set_ttl))
        .route("/id", web::get().to(id));
}

/// A GET of `uri` with these request headers (e.g. a raw `Cookie` header of several cookies).
pub async fn send<S, B>(app: &S, uri: &str, headers: &[(&str, &str)]) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::get().uri(uri);
    for &header in headers {
        req = req.append_header(header);
    }
    test::call_service(app, req.to_request()).await
}

/// A browser's jar for the session cookie: sends the cookie it holds, keeps the one a response
/// sets and forgets it when a response removes it (an empty value).
#[derive(Debug, Default)]
pub struct Jar {
    pub cookie: Option<Cookie<'static>>,
}

impl Jar {
    /// Calls `app` with `req` and the jar's cookie, and keeps what the response sets.
    pub async fn send<S, B>(&mut self, app: &S, req: test::TestRequest) -> ServiceResponse<B>
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    {
        let req = match &self.cookie {
            Some(cookie) => req.cookie(cookie.clone()),
            None => req,
        };
        let res = test::call_service(app, req.to_request()).await;
        if let Some(cookie) = testing::set_cookie(&res) {
            self.cookie = (!cookie.value().is_empty()).then_some(cookie);
        }
        res
    }
}

/// The text of response header `name`, when present.
pub fn header<B>(res: &ServiceResponse<B>, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Counts every store call, records which keys each load asked for and every TTL the store is
/// given, and fails loads or saves while told to. The failure is a fault a real store cannot produce on demand: everything else
/// is the real `MemoryStore`.
#[derive(Debug, Clone, Default)]
pub struct Instrumented {
    pub inner: MemoryStore,
    pub counts: Arc<Counts>,
    pub fail_load: Arc<AtomicBool>,
    pub fail_save: Arc<AtomicBool>,
    /// How loads and saves fail while told to (an outage unless changed).
    pub failure: Arc<Mutex<Failure>>,
    /// Each load's keys since the last `take_loads`: `None` for the whole session.
    pub loads: Arc<Mutex<Vec<Option<Vec<String>>>>>,
    /// Each TTL the store was given since the last `take_ttls`.
    pub ttls: Arc<Mutex<Vec<GivenTtl>>>,
    /// The store's clock: give it to the middleware too, and advance it instead of sleeping.
    pub clock: Clock,
}

/// The error a failing [`Instrumented`] answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Failure {
    /// `StoreError::Unavailable` (its cause says `secret-backend-detail`).
    #[default]
    Unavailable,
    Timeout,
    /// `StoreError::Other` (its cause says `secret-backend-detail`).
    Other,
}

/// The store call that carried a TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlCall {
    Save,
    Renew,
    Refresh,
    /// A load that also resets the TTL (`TtlRefresh::OnAccess`).
    RefreshingLoad,
}

/// A TTL handed to the store, with when (wall clock) it was handed over.
#[derive(Debug, Clone, Copy)]
pub struct GivenTtl {
    pub call: TtlCall,
    pub ttl: Duration,
    pub at: SystemTime,
}

impl GivenTtl {
    /// When the store will expire the session.
    pub fn expiry(&self) -> SystemTime {
        self.at + self.ttl
    }
}

impl Instrumented {
    /// A store on a manual clock: tests advance `self.clock` instead of sleeping.
    pub fn manual_clock() -> Self {
        Self::on_clock(&Clock::manual())
    }

    /// A store of its own on `clock`, which other stores and middlewares may share.
    pub fn on_clock(clock: &Clock) -> Self {
        Self {
            inner: MemoryStore::builder().clock(clock.clone()).build(),
            clock: clock.clone(),
            ..Self::default()
        }
    }

    /// The keys of the loads since the last call, in order.
    pub fn take_loads(&self) -> Vec<Option<Vec<String>>> {
        std::mem::take(&mut self.loads.lock().unwrap())
    }

    /// The TTLs given to the store since the last call, in order.
    pub fn take_ttls(&self) -> Vec<GivenTtl> {
        std::mem::take(&mut self.ttls.lock().unwrap())
    }

    fn given(&self, call: TtlCall, ttl: Duration) {
        self.ttls.lock().unwrap().push(GivenTtl {
            call,
            ttl,
            at: self.clock.now(),
        });
    }
}

#[derive(Debug, Default)]
pub struct Counts {
    pub loads: AtomicUsize,
    pub refreshing_loads: AtomicUsize,
    pub saves: AtomicUsize,
    pub refreshes: AtomicUsize,
    pub deletes: AtomicUsize,
    pub renews: AtomicUsize,
}

/// (loads, saves, refreshes, deletes, renews)
/// Store calls made so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub loads: usize,
    pub saves: usize,
    pub refreshes: usize,
    pub deletes: usize,
    pub renews: usize,
}

impl std::ops::Sub for Calls {
    type Output = Self;
    fn sub(self, before: Self) -> Self {
        Self {
            loads: self.loads - before.loads,
            saves: self.saves - before.saves,
            refreshes: self.refreshes - before.refreshes,
            deletes: self.deletes - before.deletes,
            renews: self.renews - before.renews,
        }
    }
}

impl Counts {
    pub fn snapshot(&self) -> Calls {
        Calls {
            loads: self.loads.load(SeqCst),
            saves: self.saves.load(SeqCst),
            refreshes: self.refreshes.load(SeqCst),
            deletes: self.deletes.load(SeqCst),
            renews: self.renews.load(SeqCst),
        }
    }
}

impl Failure {
    fn error(self) -> StoreError {
        let cause = || io::Error::new(io::ErrorKind::ConnectionRefused, "secret-backend-detail");
        match self {
            Self::Unavailable => StoreError::unavailable(cause()),
            Self::Timeout => StoreError::Timeout,
            Self::Other => StoreError::Other(cause().into()),
        }
    }
}

impl SessionStore for Instrumented {
    async fn load(
        &self,
        id: &SessionId,
        keys: Keys<'_>,
        refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        self.counts.loads.fetch_add(1, SeqCst);
        self.loads.lock().unwrap().push(match keys {
            Keys::All => None,
            Keys::Only(keys) => Some(keys.to_vec()),
        });
        if let Some(ttl) = refresh {
            self.counts.refreshing_loads.fetch_add(1, SeqCst);
            self.given(TtlCall::RefreshingLoad, ttl);
        }
        if self.fail_load.load(SeqCst) {
            return Err(self.failure.lock().unwrap().error());
        }
        self.inner.load(id, keys, refresh).await
    }

    async fn save(
        &self,
        id: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        self.counts.saves.fetch_add(1, SeqCst);
        self.given(TtlCall::Save, ttl);
        if self.fail_save.load(SeqCst) {
            return Err(self.failure.lock().unwrap().error());
        }
        self.inner.save(id, changes, ttl).await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.counts.refreshes.fetch_add(1, SeqCst);
        self.given(TtlCall::Refresh, ttl);
        self.inner.refresh(id, ttl).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.counts.deletes.fetch_add(1, SeqCst);
        self.inner.delete(id).await
    }

    async fn renew(
        &self,
        old: &SessionId,
        new: &SessionId,
        changes: &ChangeSet,
        ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        self.counts.renews.fetch_add(1, SeqCst);
        self.given(TtlCall::Renew, ttl);
        self.inner.renew(old, new, changes, ttl).await
    }

    // Its tests count the core calls; users.rs checks the 501s of a store without lists.
    actix_typed_session::no_user_sessions!();
}

/// Collects what `tracing` logs on this thread while the guard lives.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
