//! No log line carries a session id: failing file-store I/O (whose temporary file names hold
//! ids), a session-named entry the pruner leaves alone, an undecodable session file, and
//! rejected cookies all log, and every line they log is searched for ids.
//!
//! The subscriber is global (the file store logs from blocking threads), so this file is a test
//! binary of its own.

mod support;

use std::{
    fs,
    sync::{Arc, Mutex, OnceLock},
};

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{FileStore, Prune as _},
    testing, SessionId, SessionMiddleware,
};
use actix_web::cookie::Key;
use support::{header, send};

/// Everything logged by any thread of this test binary.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let writer = Writer(logs.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs of 43 or more URL-safe base64 characters: the shape of a session id (256 bits), which
/// nothing else in a log line has.
fn id_shaped(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|run| run.len() >= 43)
        .collect()
}

#[test]
fn the_shape_check_finds_an_id() {
    let id = SessionId::generate().to_string();
    assert_eq!(
        id_shaped(&format!("at path \"/d/session-{id}.json.x.tmp\"")).len(),
        1
    );
    assert!(id_shaped("session cookie rejected: bad signature or malformed").is_empty());
}

#[actix_web::test]
async fn file_store_failures_and_rejected_cookies_log_no_session_id() {
    let logs = logs();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let store = FileStore::new(&dir).unwrap();
    let key = Key::generate();
    let app = serve(support::routes, SessionMiddleware::new(store.clone(), key)).await;
    let mut known = Vec::new();

    // An undecodable session file.
    let res = send(&app, "/counter", &[]).await;
    let cookie = header(&res, "set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let id = testing::body(send(&app, "/id", &[("cookie", &cookie)]).await).await;
    fs::write(dir.join(format!("session-{id}.json")), "{not json").unwrap();
    assert_eq!(
        testing::body(send(&app, "/read", &[("cookie", &cookie)]).await).await,
        "0"
    );
    known.push(id);

    // A session-named directory the pruner leaves alone.
    let planted = SessionId::generate().to_string();
    fs::create_dir(dir.join(format!("session-{planted}.json"))).unwrap();
    store.prune().await.unwrap();
    known.push(planted);

    // Rejected cookies: forged, tampered, oversized.
    let mut tampered = cookie.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let oversized = format!("session={}", "A".repeat(5000));
    for bad in ["session=forged", tampered.as_str(), oversized.as_str()] {
        let res = send(&app, "/read", &[("cookie", bad)]).await;
        assert_eq!(res.status(), 200, "{bad:.40}");
    }

    // Writes fail: the directory is gone, so the temporary file cannot be created.
    fs::remove_dir_all(&dir).unwrap();
    let res = send(&app, "/counter", &[]).await;
    assert_eq!(res.status(), 503);

    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    for expected in [
        "undecodable session file",
        "left alone a session-named entry",
        "session cookie rejected: bad signature",
        "session cookie rejected: oversized",
        "could not save the session",
    ] {
        assert!(text.contains(expected), "{expected:?} not logged:\n{text}");
    }
    for id in &known {
        assert!(!text.contains(id.as_str()), "{id} logged:\n{text}");
    }
    assert!(
        id_shaped(&text).is_empty(),
        "id-shaped text logged:\n{text}"
    );
}
