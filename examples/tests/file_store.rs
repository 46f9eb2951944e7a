//! Black-box checks of `bench-server --store file`: several processes on one directory, and
//! SIGKILL in the middle of writes.

mod support;

use std::{
    collections::HashSet,
    fs,
    panic::{catch_unwind, AssertUnwindSafe},
    path::Path,
    sync::mpsc,
    thread,
};

use actix_typed_session::store::{FileStore, Prune as _};
use support::{Answer, Response, Server};

fn file_server(dir: &Path) -> Server {
    Server::start(&["--store", "file", "--dir", dir.to_str().unwrap()])
}

#[test]
fn two_servers_on_one_directory_share_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let a = file_server(dir.path());
    let mut b = file_server(dir.path());

    let first = a.get("/counter", None);
    assert_eq!(first.body, "1");
    let cookie = first.cookie().unwrap();
    assert_eq!(b.get("/counter", Some(&cookie)).body, "2");
    assert_eq!(a.get("/read", Some(&cookie)).body, "2");
    assert_eq!(b.get("/set/name/ferris", Some(&cookie)).body, "ok");
    assert_eq!(a.get("/get/name", Some(&cookie)).body, "ferris");

    // Concurrent writes of different keys through both servers all survive.
    thread::scope(|s| {
        for (tag, server) in [("a", &a), ("b", &b)] {
            let cookie = &cookie;
            s.spawn(move || {
                for i in 0..40 {
                    let res = server.get(&format!("/set/{tag}{i}/{i}"), Some(cookie));
                    assert_eq!(res.answer(), Answer::ok("ok"));
                }
            });
        }
    });
    for i in 0..40 {
        assert_eq!(
            a.get(&format!("/get/b{i}"), Some(&cookie)).body,
            i.to_string()
        );
        assert_eq!(
            b.get(&format!("/get/a{i}"), Some(&cookie)).body,
            i.to_string()
        );
    }

    // A server started later on the directory sees the session; a purge is seen everywhere.
    b.kill();
    let c = file_server(dir.path());
    assert_eq!(c.get("/read", Some(&cookie)).body, "2");
    assert_eq!(a.get("/purge", Some(&cookie)).status, 200);
    assert_eq!(c.get("/read", Some(&cookie)).body, "0");
    assert_eq!(c.get("/get/name", Some(&cookie)).status, 404);
}

/// A GET that returns `None` once the server is gone instead of panicking.
fn try_get(port: u16, path: &str, cookie: Option<&str>) -> Option<Response> {
    catch_unwind(AssertUnwindSafe(|| support::get(port, path, cookie))).ok()
}

/// One client: its own session, alternating counter increments and blobs of varying size,
/// reporting each acknowledged counter value until the server is gone.
fn client(port: u16, acked: mpsc::Sender<(usize, u64)>, me: usize) -> Option<String> {
    let mut cookie: Option<String> = None;
    for i in 0usize.. {
        let path = if i % 2 == 0 {
            "/counter".to_owned()
        } else {
            format!("/fill/{}", 1 + (i * 7) % 48)
        };
        let Some(res) = try_get(port, &path, cookie.as_deref()) else {
            break;
        };
        assert_eq!(res.status, 200, "{path}: {}", res.body);
        if cookie.is_none() {
            cookie = res.cookie();
        }
        if let Ok(n) = res.body.parse() {
            if acked.send((me, n)).is_err() {
                break;
            }
        }
    }
    cookie
}

/// Every session file in `dir` decodes: `prune` reads them all and counts the undecodable.
fn assert_files_whole(dir: &Path) {
    let store = FileStore::new(dir).unwrap();
    let report = actix_web::rt::System::new()
        .block_on(store.prune())
        .unwrap();
    assert_eq!(report.corrupt, 0, "torn session files: {report:?}");
    assert!(report.live > 0, "no session survived: {report:?}");
}

const CLIENTS: usize = 4;
/// Writes that kills must cut mid-way (each leaves its temporary file behind).
const CUT_WRITES: usize = 5;
const MAX_ROUNDS: usize = 40;

/// SIGKILL the server while clients write as fast as they can: every file left is whole, and
/// every counter value a client saw acknowledged is still there after a restart.
#[test]
fn killed_server_leaves_whole_files_and_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut mid_write = HashSet::new();
    let mut rounds = 0;
    while mid_write.len() < CUT_WRITES {
        assert!(
            rounds < MAX_ROUNDS,
            "{rounds} kills cut only {} writes mid-way",
            mid_write.len()
        );
        let mut server = file_server(dir.path());
        let (tx, rx) = mpsc::channel();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|me| {
                let (tx, port) = (tx.clone(), server.port);
                thread::spawn(move || client(port, tx, me))
            })
            .collect();
        drop(tx);
        let mut last = [0u64; CLIENTS];
        for _ in 0..(8 + rounds * 3) {
            let (me, n) = rx.recv().expect("clients keep writing");
            last[me] = n;
        }
        server.kill();
        let cookies: Vec<Option<String>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        for (me, n) in rx.try_iter() {
            last[me] = n;
        }
        rounds += 1;
        mid_write.extend(fs::read_dir(dir.path()).unwrap().filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".tmp").then_some(name)
        }));
        assert_files_whole(dir.path());

        let restarted = file_server(dir.path());
        for (me, cookie) in cookies.iter().enumerate() {
            let Some(cookie) = cookie else { continue };
            let n: u64 = restarted.get("/read", Some(cookie)).body.parse().unwrap();
            // The write in flight at the kill may have landed without being acknowledged.
            assert!(
                n == last[me] || n == last[me] + 1,
                "client {me}: acknowledged {}, found {n} after the kill",
                last[me]
            );
        }
    }
    eprintln!("{rounds} kills cut {} writes mid-way", mid_write.len());
}
