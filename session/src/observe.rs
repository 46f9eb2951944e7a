//! What operators see (docs/operating.md): a span around each session load, commit and store
//! call, and with the `metrics` feature counters, a histogram and a gauge through the `metrics`
//! facade. Never an id, a token or a value: store kinds, operations, counts and outcomes only.
//! Without the feature every metric function here is empty and compiles away.

use std::{collections::HashMap, future::Future, time::Instant};

use tracing::{field::Empty, Instrument as _, Span};

use crate::StoreError;

/// The metric names, Prometheus style (docs/operating.md says what each counts).
#[cfg(feature = "metrics")]
mod names {
    pub(super) const CREATED: &str = "actix_session_created_total";
    pub(super) const RENEWED: &str = "actix_session_renewed_total";
    pub(super) const SIGNED_IN: &str = "actix_session_signed_in_total";
    pub(super) const ENDED: &str = "actix_session_ended_total";
    pub(super) const EXPIRED: &str = "actix_session_expired_total";
    pub(super) const EVICTED: &str = "actix_session_evicted_total";
    pub(super) const REFUSED: &str = "actix_session_refused_total";
    pub(super) const STORE_ERRORS: &str = "actix_session_store_errors_total";
    pub(super) const STORE_CALL: &str = "actix_session_store_call_duration_seconds";
    pub(super) const LIVE: &str = "actix_session_live_sessions";
}

/// The store-call histograms, resolved once per worker thread instead of on every call: a
/// registration builds the key (its labels allocate) and looks it up in the recorder's
/// registry, which cost more than the recording itself. The handles are kept with the address
/// of the recorder they came from and resolved again when another recorder is in effect (a
/// test's local recorder, or the global one installed after the first request).
#[cfg(feature = "metrics")]
mod handles {
    use std::cell::RefCell;

    use metrics::Histogram;

    use super::names;

    /// More (store, operation) pairs than the built-in stores have: the cache starts over
    /// rather than grow without bound if a custom store's kind is not a constant.
    const MAX_CACHED: usize = 64;

    #[derive(Default)]
    struct Cache {
        /// The address of the recorder the handles came from.
        recorder: usize,
        histograms: Vec<(&'static str, &'static str, Histogram)>,
    }

    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::default();
    }

    /// Records `seconds` in the store-call histogram of `store` and `operation`.
    pub(super) fn record_store_call(store: &'static str, operation: &'static str, seconds: f64) {
        let register =
            || metrics::histogram!(names::STORE_CALL, "store" => store, "operation" => operation);
        // A recorder without state (the no-op one, when none is installed) has no address of
        // its own to tell it by: such handles are not kept.
        let recorder = metrics::with_recorder(|recorder| {
            (std::mem::size_of_val(recorder) != 0)
                .then(|| std::ptr::from_ref(recorder).cast::<()>().addr())
        });
        let Some(recorder) = recorder else {
            register().record(seconds);
            return;
        };
        CACHE.with_borrow_mut(|cache| {
            if cache.recorder != recorder || cache.histograms.len() >= MAX_CACHED {
                cache.recorder = recorder;
                cache.histograms.clear();
            }
            let found = cache
                .histograms
                .iter()
                .find(|(s, o, _)| *s == store && *o == operation);
            match found {
                Some((_, _, histogram)) => histogram.record(seconds),
                None => {
                    let histogram = register();
                    histogram.record(seconds);
                    cache.histograms.push((store, operation, histogram));
                }
            }
        });
    }
}

/// Describes this crate's metrics to the installed recorder (feature `metrics`), so that
/// exporters print their help text and unit. Call it once, after installing your recorder;
/// the metrics are recorded whether or not you do.
///
/// ```
/// // After installing your exporter's recorder (metrics-exporter-prometheus, say):
/// actix_typed_session::describe_metrics();
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    use names::*;
    describe_counter!(CREATED, "Sessions created (written for the first time).");
    describe_counter!(RENEWED, "Sessions moved to a new id, sign-ins included.");
    describe_counter!(SIGNED_IN, "Sign-ins committed.");
    describe_counter!(
        ENDED,
        "Sessions ended, by reason: purge (a purge or sign-out), everywhere (log out everywhere) or cap (beyond max_sessions_per_user)."
    );
    describe_counter!(
        EXPIRED,
        "Valid tokens whose session had expired or ended elsewhere when loaded."
    );
    describe_counter!(
        EVICTED,
        "Live sessions the memory store evicted to stay within its bounds, by signed_in."
    );
    describe_counter!(
        REFUSED,
        "Session tokens refused because they do not verify, by reason."
    );
    describe_counter!(
        STORE_ERRORS,
        "Failed store calls, by store and kind (unavailable, timeout, corrupt, other)."
    );
    describe_histogram!(
        STORE_CALL,
        Unit::Seconds,
        "Store call latency, by store and operation."
    );
    describe_gauge!(
        LIVE,
        "Sessions held, where the store knows it cheaply (memory)."
    );
}

/// What a store call's result says in its span: an outcome, and the keys it loaded.
pub(crate) trait Outcome {
    fn outcome(&self) -> &'static str;
    fn keys(&self) -> Option<usize> {
        None
    }
}

impl<V> Outcome for Option<HashMap<String, V>> {
    fn outcome(&self) -> &'static str {
        if self.is_some() {
            "hit"
        } else {
            "miss"
        }
    }
    fn keys(&self) -> Option<usize> {
        Some(self.as_ref().map_or(0, HashMap::len))
    }
}

/// `index_user_session`: the user's listed sessions, when the store counted them.
impl Outcome for Option<usize> {
    fn outcome(&self) -> &'static str {
        "ok"
    }
}

/// The span and metrics name of a store error.
pub(crate) fn error_kind(err: &StoreError) -> &'static str {
    match err {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Timeout => "timeout",
        StoreError::Corrupt(_) => "corrupt",
        StoreError::Unsupported { .. } => "unsupported",
        StoreError::Other(_) => "other",
    }
}

/// Runs one store call in a `session.store` span (a child of the request's), and records its
/// outcome, keys and duration there and in the metrics.
pub(crate) async fn store_call<T: Outcome>(
    store: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let span = tracing::info_span!(
        "session.store",
        store,
        operation,
        keys = Empty,
        outcome = Empty,
        duration_us = Empty
    );
    // The clock is read only when someone looks.
    let start = (cfg!(feature = "metrics") || !span.is_disabled()).then(Instant::now);
    let result = call.instrument(span.clone()).await;
    let elapsed = start.map(|start| start.elapsed());
    if !span.is_disabled() {
        record_outcome(&span, &result);
        if let Some(elapsed) = elapsed {
            span.record(
                "duration_us",
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
        }
    }
    #[cfg(feature = "metrics")]
    {
        if let Some(elapsed) = elapsed {
            handles::record_store_call(store, operation, elapsed.as_secs_f64());
        }
        // Unsupported is a capability answer (a store without user lists), not a failure.
        match &result {
            Err(StoreError::Unsupported { .. }) | Ok(_) => {}
            Err(err) => {
                metrics::counter!(names::STORE_ERRORS, "store" => store, "kind" => error_kind(err))
                    .increment(1);
            }
        }
    }
    result
}

/// The span of a session's load from its store; [`record_outcome`] records the outcome and
/// how many keys came back.
pub(crate) fn load_span(store: &'static str) -> Span {
    tracing::info_span!("session.load", store, keys = Empty, outcome = Empty)
}

/// Records a load's or a store call's outcome, and the keys it loaded, in its span.
pub(crate) fn record_outcome<T: Outcome>(span: &Span, result: &Result<T, StoreError>) {
    match result {
        Ok(value) => {
            span.record("outcome", value.outcome());
            if let Some(keys) = value.keys() {
                span.record("keys", keys);
            }
        }
        Err(err) => {
            span.record("outcome", error_kind(err));
        }
    }
}

/// The span of a session's commit after the handler: `action` is what the plan did (save,
/// create, renew, purge, …), `outcome` `ok` or the error kind.
pub(crate) fn commit_span(store: &'static str) -> Span {
    tracing::info_span!("session.commit", store, action = Empty, outcome = Empty)
}

/// Records in the current commit span what the commit does.
pub(crate) fn commit_action(action: &'static str) {
    Span::current().record("action", action);
}

/// Why a presented session token was refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    /// Longer than any token we issue.
    Oversized,
    /// Not signed (or sealed) by any accepted key: tampered, truncated or forged.
    BadSignature,
    /// Authentic, or not even well-formed, but its content does not decode.
    Malformed,
}

impl Refusal {
    #[cfg(feature = "metrics")]
    fn label(self) -> &'static str {
        match self {
            Self::Oversized => "oversized",
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
        }
    }
}

macro_rules! count {
    ($(#[$doc:meta] $fn:ident => $name:ident;)*) => {$(
        #[$doc]
        #[inline]
        pub(crate) fn $fn() {
            #[cfg(feature = "metrics")]
            metrics::counter!(names::$name).increment(1);
        }
    )*};
}

count! {
    /// A session was written for the first time.
    created => CREATED;
    /// A session moved to a new id.
    renewed => RENEWED;
    /// A sign-in was committed.
    signed_in => SIGNED_IN;
    /// A valid token's session had expired (or ended elsewhere).
    expired => EXPIRED;
}

/// Sessions ended: `reason` is `purge`, `everywhere`, `cap` or `epoch`.
#[inline]
pub(crate) fn ended(reason: &'static str, sessions: u64) {
    #[cfg(feature = "metrics")]
    metrics::counter!(names::ENDED, "reason" => reason).increment(sessions);
    #[cfg(not(feature = "metrics"))]
    let _ = (reason, sessions);
}

/// A presented token did not verify.
#[inline]
pub(crate) fn refused(reason: Refusal) {
    #[cfg(feature = "metrics")]
    metrics::counter!(names::REFUSED, "reason" => reason.label()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// The memory store evicted a live session.
#[inline]
pub(crate) fn evicted(signed_in: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(names::EVICTED, "signed_in" => if signed_in { "true" } else { "false" })
        .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = signed_in;
}

/// How many sessions `store` holds; `count` is only called when metrics are on.
#[inline]
pub(crate) fn live_sessions(store: &'static str, count: impl FnOnce() -> u64) {
    #[cfg(feature = "metrics")]
    #[allow(clippy::cast_precision_loss)] // a gauge is an f64
    metrics::gauge!(names::LIVE, "store" => store).set(count() as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = (store, count);
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    };

    use metrics::{
        Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString,
        Unit,
    };

    /// Keeps what is recorded in each histogram, and counts registrations.
    #[derive(Default)]
    struct Recording {
        registrations: AtomicUsize,
        samples: Arc<Mutex<Vec<(String, f64)>>>,
    }

    struct Samples {
        key: String,
        into: Arc<Mutex<Vec<(String, f64)>>>,
    }

    impl HistogramFn for Samples {
        fn record(&self, value: f64) {
            self.into.lock().unwrap().push((self.key.clone(), value));
        }
    }

    impl Recorder for Recording {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            Counter::noop()
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            self.registrations.fetch_add(1, Ordering::Relaxed);
            let labels: Vec<_> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            Histogram::from_arc(Arc::new(Samples {
                key: labels.join(","),
                into: Arc::clone(&self.samples),
            }))
        }
    }

    fn samples(recording: &Recording) -> Vec<(String, f64)> {
        recording.samples.lock().unwrap().clone()
    }

    #[test]
    fn store_call_histograms_are_registered_once_per_recorder_and_pair() {
        let recording = Recording::default();
        metrics::with_local_recorder(&recording, || {
            for seconds in [1.0, 2.0, 3.0] {
                super::handles::record_store_call("memory", "load", seconds);
            }
            super::handles::record_store_call("memory", "save", 4.0);
        });
        assert_eq!(recording.registrations.load(Ordering::Relaxed), 2);
        let load = "store=memory,operation=load".to_owned();
        let save = "store=memory,operation=save".to_owned();
        assert_eq!(
            samples(&recording),
            [
                (load.clone(), 1.0),
                (load.clone(), 2.0),
                (load, 3.0),
                (save, 4.0)
            ]
        );
    }

    #[test]
    fn another_recorder_gets_its_own_handles() {
        // Both alive at once, so they cannot share an address.
        let (first, second) = (Recording::default(), Recording::default());
        metrics::with_local_recorder(&first, || {
            super::handles::record_store_call("redis", "load", 1.0);
        });
        metrics::with_local_recorder(&second, || {
            super::handles::record_store_call("redis", "load", 2.0);
        });
        metrics::with_local_recorder(&first, || {
            super::handles::record_store_call("redis", "load", 3.0);
        });
        let key = "store=redis,operation=load".to_owned();
        assert_eq!(samples(&first), [(key.clone(), 1.0), (key.clone(), 3.0)]);
        assert_eq!(samples(&second), [(key, 2.0)]);
        // The first recorder's handle was resolved again after the second's was cached.
        assert_eq!(first.registrations.load(Ordering::Relaxed), 2);
        assert_eq!(second.registrations.load(Ordering::Relaxed), 1);
    }
}
