//! The axum servers, started as `scripts/bench` starts them, keep (or, for the baseline, never
//! keep) their sessions across requests through the cookie: the peer measures real session
//! work, not a fresh session per request, and the baseline no session work at all.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command},
    time::{Duration, Instant},
};

/// A server binary of this package on a free port; killed (and its files removed) when
/// dropped.
struct Server {
    child: Child,
    port: u16,
    files: Vec<PathBuf>,
}

impl Server {
    fn start(bin: &str, args: &[&str], files: Vec<PathBuf>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(args)
            .args(["--port", &port.to_string()])
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let mut server = Self { child, port, files };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("{bin} {args:?} exited with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// GETs `path` with `cookie` (`name=value`); returns the status, the `name=value` of the
    /// first `Set-Cookie` (if any) and the body.
    fn get(&self, path: &str, cookie: Option<&str>) -> (u16, Option<String>, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{cookie}\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").expect("a whole HTTP answer");
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let set_cookie = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap().to_owned())
        });
        (status, set_cookie, body.to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

const PEER: &str = env!("CARGO_BIN_EXE_tower-sessions-server");
const BASELINE: &str = env!("CARGO_BIN_EXE_axum-baseline-server");

/// The session routes on one server: the counter counts across requests through the cookie,
/// `/read` reads it without setting a cookie, `/fill` and `/get` keep a value, `/purge` ends
/// the session and removes the cookie.
fn keeps_its_session(server: &Server) {
    assert_eq!(server.get("/noop", None), (200, None, "ok".into()));
    assert_eq!(server.get("/read", None), (200, None, "0".into()));

    let (status, cookie, body) = server.get("/counter", None);
    assert_eq!((status, body.as_str()), (200, "1"));
    let mut cookie = cookie.expect("/counter sets the session cookie");
    assert!(cookie.starts_with("id="), "{cookie}");
    for n in 2..=3 {
        let (status, set, body) = server.get("/counter", Some(&cookie));
        assert_eq!((status, body), (200, n.to_string()));
        cookie = set.unwrap_or(cookie);
    }
    assert_eq!(server.get("/read", Some(&cookie)), (200, None, "3".into()));

    let (status, set, _) = server.get("/fill/1", Some(&cookie));
    assert_eq!(status, 200);
    cookie = set.unwrap_or(cookie);
    let (status, _, blob) = server.get("/get/blob", Some(&cookie));
    assert_eq!((status, blob.len()), (200, 1024));
    assert_eq!(server.get("/get/missing", Some(&cookie)).0, 404);
    assert_eq!(server.get("/read", Some(&cookie)).2, "3");

    // Another session is another counter.
    assert_eq!(server.get("/counter", None).2, "1");
    assert_eq!(server.get("/read", Some(&cookie)).2, "3");

    let (status, removal, _) = server.get("/purge", Some(&cookie));
    assert_eq!(status, 200);
    assert_eq!(removal.as_deref(), Some("id="), "/purge removes the cookie");
    assert_eq!(server.get("/read", Some(&cookie)).2, "0");

    // A forged cookie is no session (the id is signed).
    let forged = format!("{}x", &cookie[..cookie.len() - 1]);
    assert_eq!(server.get("/read", Some(&forged)).2, "0");
}

#[test]
fn tower_sessions_memory_store_keeps_sessions() {
    keeps_its_session(&Server::start(PEER, &["--store", "memory"], Vec::new()));
}

#[test]
fn tower_sessions_sqlite_store_keeps_sessions_across_restarts() {
    let path = std::env::temp_dir().join(format!("bench-tower-{}.db", std::process::id()));
    let files = ["", "-wal", "-shm"]
        .map(|end| PathBuf::from(format!("{}{end}", path.display())))
        .to_vec();
    let args = ["--store", "sqlite", "--database", path.to_str().unwrap()];
    let server = Server::start(PEER, &args, Vec::new());
    keeps_its_session(&server);
    let cookie = server.get("/counter", None).1.unwrap();
    drop(server);
    // The sessions are in the database, not in the process.
    let restarted = Server::start(PEER, &args, files);
    assert_eq!(restarted.get("/counter", Some(&cookie)).2, "2");
}

#[test]
fn tower_sessions_server_refuses_stores_it_does_not_have() {
    for store in ["cookie", "file"] {
        let status = Command::new(PEER)
            .args(["--store", store, "--port", "1"])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "--store {store}");
    }
}

#[test]
fn axum_baseline_keeps_no_session() {
    let server = Server::start(BASELINE, &["--store", "memory"], Vec::new());
    for _ in 0..2 {
        assert_eq!(server.get("/counter", None), (200, None, "1".into()));
    }
    assert_eq!(server.get("/read", Some("id=abc")), (200, None, "0".into()));
    assert_eq!(server.get("/noop", None), (200, None, "ok".into()));
    assert_eq!(server.get("/fill/1", None), (200, None, "ok".into()));
    assert_eq!(server.get("/get/blob", None).0, 404);
}
