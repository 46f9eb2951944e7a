//! Where the library reads the time: the system clock, or (feature `testing`) a manual clock
//! that tests move forward instead of sleeping.

use std::{
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// The time source of a middleware or a store.
///
/// Production code never names it: every builder defaults to the system clock. Tests (feature
/// `testing`) give the middleware and the store one [`Clock::manual`] and
/// [`advance`](Clock::advance) it, so TTLs, expiry and maximum lifetimes are checked without
/// sleeping. A manual clock runs with the system clock and adds what it was advanced by.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use std::time::Duration;
/// use actix_typed_session::{store::MemoryStore, Clock, SessionMiddleware};
///
/// let clock = Clock::manual();
/// let store = MemoryStore::builder().clock(clock.clone()).build();
/// let key = actix_web::cookie::Key::generate();
/// let middleware = SessionMiddleware::builder(store, key).clock(clock.clone()).build();
/// clock.advance(Duration::from_secs(3600)); // an hour passes, at once
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    /// Milliseconds a manual clock has been advanced by; `None` for the system clock.
    ahead: Option<Arc<AtomicU64>>,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ahead {
            None => f.write_str("Clock::system"),
            Some(ahead) => write!(f, "Clock::manual(+{} ms)", ahead.load(Ordering::Relaxed)),
        }
    }
}

impl Clock {
    /// The system clock (the default).
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that tests move forward with [`advance`](Self::advance); clones share it.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    #[must_use]
    pub fn manual() -> Self {
        Self {
            ahead: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Moves a manual clock forward by `by` (whole milliseconds). Does nothing to the system
    /// clock.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn advance(&self, by: Duration) {
        if let Some(ahead) = &self.ahead {
            let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            ahead.fetch_add(ms, Ordering::Relaxed);
        }
    }

    fn ahead(&self) -> Duration {
        self.ahead.as_ref().map_or(Duration::ZERO, |a| {
            Duration::from_millis(a.load(Ordering::Relaxed))
        })
    }

    /// The wall-clock time this clock reads (the system's, plus what a manual clock was
    /// advanced by).
    #[must_use]
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.ahead()
    }

    /// Seconds since the Unix epoch (0 for a clock set before it): the unit cookies carry.
    pub(crate) fn unix_secs(&self) -> u64 {
        self.since_epoch().as_secs()
    }

    /// Milliseconds since the Unix epoch.
    #[cfg(feature = "file")]
    pub(crate) fn unix_millis(&self) -> u64 {
        u64::try_from(self.since_epoch().as_millis()).unwrap_or(u64::MAX)
    }

    fn since_epoch(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(self.ahead())
    }

    /// A monotonic instant, for in-process deadlines.
    pub(crate) fn instant(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.ahead()).unwrap_or(now)
    }

    /// `now + ttl`, saturating far in the future instead of overflowing.
    pub(crate) fn instant_after(&self, ttl: Duration) -> Instant {
        let now = self.instant();
        now.checked_add(ttl)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 366 * 24 * 3600))
    }
}
