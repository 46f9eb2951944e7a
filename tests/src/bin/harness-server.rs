//! The harness's server (`session_tests::harness::server`) as its own process, for the
//! multi-process harness runs: `harness-server file DIR [PORT]` on a `FileStore` in `DIR`, or
//! `harness-server sqlite FILE [PORT]` on a `SqliteStore` in the database `FILE`; users'
//! credential epochs live in the directory named by `HARNESS_EPOCHS` (shared with the other
//! processes on the store, and kept across a kill). It prints its address on one line, then
//! serves until stdin closes (or it is killed).

use std::{
    io::{BufRead as _, Write as _},
    time::Duration,
};

use actix_typed_session::{
    store::{FileStore, SqliteStore},
    SessionStorage,
};
use session_tests::harness::server::{Epochs, Server};

/// The SQLite store's timeout: two processes take turns on one write lock under the
/// harness's load, so give a writer time to get it.
const SQLITE_TIMEOUT: Duration = Duration::from_secs(3);

fn main() {
    let usage = "usage: harness-server file|sqlite PATH [PORT]";
    let mut args = std::env::args().skip(1);
    let (store, path) = (args.next().expect(usage), args.next().expect(usage));
    let port = args.next().map_or(0, |p| p.parse().expect("a port"));
    let epochs = std::env::var_os("HARNESS_EPOCHS").expect("HARNESS_EPOCHS: a directory");
    let server = Server::start_on(
        port,
        2,
        Epochs::Dir(epochs.into()),
        move || -> SessionStorage {
            match store.as_str() {
                "file" => FileStore::new(path).expect("open the store").into(),
                "sqlite" => SqliteStore::builder(path)
                    .timeout(SQLITE_TIMEOUT)
                    .build()
                    .expect("open the store")
                    .into(),
                other => panic!("unknown store {other:?}; {usage}"),
            }
        },
    );
    println!("{}", server.addr());
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin (or dies).
    for _ in std::io::stdin().lock().lines() {}
    drop(server);
}
