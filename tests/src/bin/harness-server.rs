//! The harness's server (`session_tests::harness::server`) on a `FileStore`, as its own
//! process, for the multi-process harness run: `harness-server DIR` prints its address on one
//! line, then serves until stdin closes.

use std::io::{BufRead as _, Write as _};

use session::store::FileStore;
use session_tests::harness::server::Server;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: harness-server DIR");
    let server = Server::start(2, move || FileStore::new(dir).expect("open the store"));
    println!("{}", server.addr());
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin (or dies).
    for _ in std::io::stdin().lock().lines() {}
    drop(server);
}
