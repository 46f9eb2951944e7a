//! Test support: a store wrapper that counts calls and can fail on demand, and a log capture.

#![allow(dead_code)]

use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
        Arc, Mutex,
    },
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test, web, App,
};
use session::{
    store::{ChangeSet, Entries, Keys, MemoryStore, SaveOutcome, SessionStore},
    testing, SessionId, SessionMiddleware, StoreError,
};

/// A test service: `routes` behind the middleware `mw`.
pub async fn serve(
    routes: fn(&mut web::ServiceConfig),
    mw: SessionMiddleware,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(App::new().wrap(mw).configure(routes)).await
}

/// `GET uri` with `cookie`, if any.
pub async fn get<S, B>(app: &S, uri: &str, cookie: Option<&Cookie<'static>>) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    testing::get(app, uri, cookie.cloned()).await
}

/// Counts every store call, records which keys each load asked for, and fails loads or saves
/// while told to. The failure is a fault a real store cannot produce on demand: everything else
/// is the real `MemoryStore`.
#[derive(Debug, Clone, Default)]
pub struct Instrumented {
    pub inner: MemoryStore,
    pub counts: Arc<Counts>,
    pub fail_load: Arc<AtomicBool>,
    pub fail_save: Arc<AtomicBool>,
    /// Each load's keys since the last `take_loads`: `None` for the whole session.
    pub loads: Arc<Mutex<Vec<Option<Vec<String>>>>>,
}

impl Instrumented {
    /// The keys of the loads since the last call, in order.
    pub fn take_loads(&self) -> Vec<Option<Vec<String>>> {
        std::mem::take(&mut self.loads.lock().unwrap())
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
pub type Snapshot = (usize, usize, usize, usize, usize);

impl Counts {
    pub fn snapshot(&self) -> Snapshot {
        (
            self.loads.load(SeqCst),
            self.saves.load(SeqCst),
            self.refreshes.load(SeqCst),
            self.deletes.load(SeqCst),
            self.renews.load(SeqCst),
        )
    }
}

fn down() -> StoreError {
    StoreError::unavailable(io::Error::new(
        io::ErrorKind::ConnectionRefused,
        "secret-backend-detail",
    ))
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
        if refresh.is_some() {
            self.counts.refreshing_loads.fetch_add(1, SeqCst);
        }
        if self.fail_load.load(SeqCst) {
            return Err(down());
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
        if self.fail_save.load(SeqCst) {
            return Err(down());
        }
        self.inner.save(id, changes, ttl).await
    }

    async fn refresh(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError> {
        self.counts.refreshes.fetch_add(1, SeqCst);
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
        self.inner.renew(old, new, changes, ttl).await
    }
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
