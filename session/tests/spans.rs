//! The spans an operator's tracer sees: each request that uses its session has a
//! `session.load` and a `session.commit` under the request's span, each store call a
//! `session.store` under those, and the work the SQLite store's thread and the file store's
//! blocking pool do for a call runs in a span under that call's. No span or event field holds
//! a session id or a cookie.
//!
//! The subscriber is global (the stores' worker threads log too), so this file is a test
//! binary of its own; each test tells its spans apart by its request spans' `test` field.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock,
    },
};

use actix_typed_session::{
    store::{FileStore, Keys, MemoryStore, SessionStore, SqliteStore},
    testing, SessionId, SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, dev::Service as _, test as web_test, App};
use tracing::{
    field::{Field, Visit},
    span, Instrument as _, Subscriber,
};
use tracing_subscriber::{layer::Context, prelude::*, registry::LookupSpan, Layer};

/// A span as the capture saw it: its name, its parent (by serial: the registry reuses ids) and
/// every field value recorded on it.
#[derive(Debug, Clone)]
struct Seen {
    name: &'static str,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Captured {
    spans: BTreeMap<u64, Seen>,
    /// Every event's fields (its message included).
    events: Vec<BTreeMap<String, String>>,
}

fn captured() -> &'static Mutex<Captured> {
    static CAPTURED: OnceLock<Mutex<Captured>> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture))
            .unwrap();
        Mutex::default()
    })
}

struct Capture;

/// A span's serial number, in its registry extensions.
struct Serial(u64);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let span = ctx.span(id).unwrap();
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Serial>().map(|s| s.0));
        span.extensions_mut().insert(Serial(serial));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let seen = Seen {
            name: attrs.metadata().name(),
            parent,
            fields,
        };
        captured().lock().unwrap().spans.insert(serial, seen);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(serial) = ctx
            .span(id)
            .and_then(|s| s.extensions().get::<Serial>().map(|s| s.0))
        else {
            return;
        };
        let mut all = captured().lock().unwrap();
        if let Some(seen) = all.spans.get_mut(&serial) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        captured().lock().unwrap().events.push(fields);
    }
}

/// The spans of test `test`'s requests and everything under them, by serial.
fn spans_of(test: &str) -> BTreeMap<u64, Seen> {
    let all = captured().lock().unwrap();
    let under_test = |mut serial: u64| loop {
        let seen = &all.spans[&serial];
        if seen.name == "request" {
            return seen.fields.get("test").is_some_and(|t| t == test);
        }
        match seen.parent {
            Some(parent) => serial = parent,
            None => return false,
        }
    };
    all.spans
        .iter()
        .filter(|(serial, _)| under_test(**serial))
        .map(|(serial, seen)| (*serial, seen.clone()))
        .collect()
}

/// The names from `serial` up to the root.
fn chain(spans: &BTreeMap<u64, Seen>, mut serial: u64) -> Vec<&'static str> {
    let mut names = Vec::new();
    loop {
        let seen = &spans[&serial];
        names.push(seen.name);
        match seen.parent {
            Some(parent) => serial = parent,
            None => return names,
        }
    }
}

fn field<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.fields.get(name).map(String::as_str)
}

/// Makes, reads, signs in and purges a session through an app on `store`, each request in a
/// `request` span of its own; answers the cookies the app set.
async fn traffic(name: &'static str, store: impl Into<SessionStorage>) -> Vec<String> {
    let app = web_test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, Key::from(&[7; 64]))
                    .cookie_secure(false)
                    .build(),
            )
            .configure(testing::routes)
            .wrap_fn(move |req, srv| {
                let span = tracing::info_span!("request", test = name, path = req.path());
                srv.call(req).instrument(span)
            }),
    )
    .await;
    let mut cookie: Option<String> = None;
    let mut cookies = Vec::new();
    for path in ["/counter", "/counter", "/login/ada", "/typed", "/purge"] {
        let mut req = web_test::TestRequest::get().uri(path);
        if let Some(cookie) = &cookie {
            req = req.insert_header(("Cookie", cookie.as_str()));
        }
        let res = web_test::call_service(&app, req.to_request()).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        if let Some(set) = res.response().cookies().next() {
            // The purge's removal cookie is empty.
            if !set.value().is_empty() {
                cookies.push(set.value().to_owned());
                cookie = Some(format!("{}={}", set.name(), set.value()));
            }
        }
    }
    assert!(cookies.len() >= 2, "{cookies:?}");
    cookies
}

/// The checks every store passes: load and commit spans under the request, store calls under
/// them with their fields, and no id or cookie anywhere.
fn check_tree(test: &str, kind: &str, cookies: &[String]) -> BTreeMap<u64, Seen> {
    let spans = spans_of(test);
    let load = spans
        .iter()
        .find(|(serial, seen)| {
            seen.name == "session.store"
                && field(seen, "operation") == Some("load")
                && chain(&spans, **serial) == ["session.store", "session.load", "request"]
        })
        .map(|(_, seen)| seen)
        .unwrap_or_else(|| panic!("no store load under a session load: {spans:#?}"));
    assert_eq!(field(load, "store"), Some(kind));
    assert_eq!(field(load, "outcome"), Some("hit"), "{load:?}");
    assert!(field(load, "keys").is_some_and(|k| k.parse::<u64>().unwrap() >= 1));
    assert!(field(load, "duration_us").is_some(), "{load:?}");
    let session_load = spans
        .values()
        .find(|seen| seen.name == "session.load" && field(seen, "outcome") == Some("hit"))
        .expect("a session load that found its session");
    assert_eq!(field(session_load, "store"), Some(kind));
    for (operation, action) in [("save", "create"), ("renew", "renew"), ("delete", "purge")] {
        let found = spans.iter().any(|(serial, seen)| {
            let parent = seen.parent.map(|p| &spans[&p]);
            seen.name == "session.store"
                && field(seen, "operation") == Some(operation)
                && field(seen, "store") == Some(kind)
                && chain(&spans, *serial) == ["session.store", "session.commit", "request"]
                && parent.is_some_and(|p| field(p, "action") == Some(action))
        });
        assert!(found, "no {operation} under a {action} commit: {spans:#?}");
    }
    no_secrets(cookies);
    spans
}

/// How many `name` spans (a store's work on another thread) hang under the test's requests,
/// each right under a store call. Without the caller's span carried over they have no parent,
/// and none is counted.
fn worker_spans(spans: &BTreeMap<u64, Seen>, name: &str) -> usize {
    let chains: Vec<_> = spans
        .iter()
        .filter(|(_, seen)| seen.name == name)
        .map(|(serial, _)| chain(spans, *serial))
        .collect();
    for names in &chains {
        assert_eq!(names[1], "session.store", "{names:?}");
    }
    chains.len()
}

/// Runs of 43 or more URL-safe base64 characters: the shape of a session id (256 bits).
fn id_shaped(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .any(|run| run.len() >= 43)
}

fn no_secrets(cookies: &[String]) {
    let all = captured().lock().unwrap();
    let values = all
        .spans
        .values()
        .flat_map(|seen| seen.fields.values())
        .chain(all.events.iter().flat_map(BTreeMap::values));
    for value in values {
        assert!(!id_shaped(value), "an id-shaped field: {value}");
        for cookie in cookies {
            assert!(!value.contains(cookie.as_str()), "a cookie in {value}");
        }
    }
}

#[test]
fn the_check_sees_an_id() {
    assert!(id_shaped(&format!("id {}", SessionId::generate())));
    assert!(!id_shaped("session.store load hit"));
}

#[actix_web::test]
async fn memory_store_calls_are_children_of_the_request() {
    captured();
    let cookies = traffic("memory", MemoryStore::new()).await;
    check_tree("memory", "memory", &cookies);
}

#[actix_web::test]
async fn sqlite_thread_work_runs_under_the_store_call() {
    captured();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("sessions.db")).unwrap();
    // A second calling thread sends every later call to the store's SQLite thread.
    let probe = SessionId::generate();
    store.load(&probe, Keys::All, None).await.unwrap();
    let other = store.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(async move { other.load(&probe, Keys::All, None).await })
            .unwrap()
    })
    .join()
    .unwrap();
    let cookies = traffic("sqlite", store).await;
    let spans = check_tree("sqlite", "sqlite", &cookies);
    let on_thread = worker_spans(&spans, "session.sqlite_thread");
    assert!(
        on_thread >= 4,
        "{on_thread} calls ran on the SQLite thread under a request"
    );
}

#[actix_web::test]
async fn file_store_blocking_work_runs_under_the_store_call() {
    captured();
    let dir = tempfile::tempdir().unwrap();
    let cookies = traffic("file", FileStore::new(dir.path()).unwrap()).await;
    let spans = check_tree("file", "file", &cookies);
    let io = worker_spans(&spans, "session.file_io");
    assert!(
        io >= 4,
        "{io} calls ran on the blocking pool under a request"
    );
}
