//! The harness's server (`session_tests::harness::server`) on a `FileStore`, as its own
//! process, for the multi-process harness runs: `harness-server DIR [PORT]` prints its address
//! on one line, then serves until stdin closes (or it is killed).

use std::io::{BufRead as _, Write as _};

use actix_typed_session::store::FileStore;
use session_tests::harness::server::Server;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: harness-server DIR [PORT]");
    let port = args.next().map_or(0, |p| p.parse().expect("a port"));
    let server = Server::start_on(port, 2, move || {
        FileStore::new(dir).expect("open the store")
    });
    println!("{}", server.addr());
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin (or dies).
    for _ in std::io::stdin().lock().lines() {}
    drop(server);
}
