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
/// sleeping. A manual clock stands still: it reads the time it was made at, plus what it was
/// advanced by, so a test's outcome does not depend on how fast the machine runs it.
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
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3600)); // an hour passes, at once
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(3600));
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    /// `None` for the system clock.
    manual: Option<Arc<Manual>>,
}

/// A manual clock: where it started, and the milliseconds it was advanced by since.
struct Manual {
    wall: SystemTime,
    monotonic: Instant,
    ahead: AtomicU64,
}

impl Manual {
    fn ahead(&self) -> Duration {
        Duration::from_millis(self.ahead.load(Ordering::Relaxed))
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            None => f.write_str("Clock::system"),
            Some(manual) => write!(f, "Clock::manual(+{} ms)", manual.ahead().as_millis()),
        }
    }
}

impl Clock {
    /// Returns the system clock (the default).
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }

    /// Creates a clock that stands at the current time until [`advance`](Self::advance) moves
    /// it; clones share it.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    #[must_use]
    pub fn manual() -> Self {
        Self {
            manual: Some(Arc::new(Manual {
                wall: SystemTime::now(),
                monotonic: Instant::now(),
                ahead: AtomicU64::new(0),
            })),
        }
    }

    /// Moves a manual clock forward by `by` (whole milliseconds). Does nothing to the system
    /// clock.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual {
            let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            manual.ahead.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Returns the wall-clock time this clock reads: the system's, or a manual clock's start
    /// plus what it was advanced by.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        match &self.manual {
            None => SystemTime::now(),
            Some(manual) => manual.wall + manual.ahead(),
        }
    }

    /// Seconds since the Unix epoch (0 for a clock set before it): the unit cookies carry.
    pub(crate) fn unix_secs(&self) -> u64 {
        self.since_epoch().as_secs()
    }

    /// Milliseconds since the Unix epoch.
    #[cfg(any(feature = "file", feature = "sqlite", feature = "postgres"))]
    pub(crate) fn unix_millis(&self) -> u64 {
        u64::try_from(self.since_epoch().as_millis()).unwrap_or(u64::MAX)
    }

    fn since_epoch(&self) -> Duration {
        self.now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }

    /// A monotonic instant, for expiry within the process.
    pub(crate) fn instant(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(manual) => {
                let start = manual.monotonic;
                start.checked_add(manual.ahead()).unwrap_or(start)
            }
        }
    }

    /// `now + ttl`, saturating far in the future instead of overflowing.
    pub(crate) fn instant_after(&self, ttl: Duration) -> Instant {
        let now = self.instant();
        now.checked_add(ttl)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 366 * 24 * 3600))
    }
}
