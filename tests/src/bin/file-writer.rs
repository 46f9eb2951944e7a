//! A process that writes to a `FileStore`, for the multi-process tests in `tests/file_*.rs`.
//!
//! `file-writer merge DIR ID TAG COUNT`: applies COUNT change sets to session ID, each
//! upserting its own key `TAG-i`; exits 2 if the session is gone.
//!
//! `file-writer hammer DIR`: writes sessions of varying sizes (and deletes some) as fast as
//! it can, printing one line per write, until killed.

use std::{io::Write as _, process::ExitCode, time::Duration};

use actix_typed_session::{
    store::{ChangeSet, FileStore, SaveOutcome, SessionStore},
    SessionId,
};

const TTL: Duration = Duration::from_secs(3600);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    actix_web::rt::System::new().block_on(async move {
        match args.as_slice() {
            ["merge", dir, id, tag, count] => {
                let store = FileStore::new(*dir).expect("open the store");
                let id = SessionId::try_from(*id).expect("a session id");
                let count: usize = count.parse().expect("a count");
                for i in 0..count {
                    let changes = ChangeSet::update().upsert(format!("{tag}-{i}"), i.to_string());
                    match store.save(&id, &changes, TTL).await.expect("save") {
                        SaveOutcome::Saved => {}
                        _ => return ExitCode::from(2),
                    }
                }
                ExitCode::SUCCESS
            }
            ["hammer", dir] => {
                let store = FileStore::new(*dir).expect("open the store");
                let ids: Vec<SessionId> = (0..8).map(|_| SessionId::generate()).collect();
                let mut out = std::io::stdout().lock();
                for i in 0usize.. {
                    let id = &ids[i % ids.len()];
                    if i % 5 == 4 {
                        store.delete(id).await.expect("delete");
                    } else {
                        // Up to 16 KiB: big enough to span several pages, small enough that the flush to disk,
                        // not the JSON encoding, takes most of the time.
                        let blob = "x".repeat((i * 7919) % (16 * 1024));
                        let changes = ChangeSet::create()
                            .upsert("n", i.to_string())
                            .upsert("blob", format!("\"{blob}\""));
                        store.save(id, &changes, TTL).await.expect("save");
                    }
                    if writeln!(out, "{i}").and_then(|()| out.flush()).is_err() {
                        break;
                    }
                }
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("usage: file-writer merge DIR ID TAG COUNT | file-writer hammer DIR");
                ExitCode::FAILURE
            }
        }
    })
}
