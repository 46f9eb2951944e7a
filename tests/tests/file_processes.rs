//! `FileStore` shared by several processes, and killed mid-write: real processes
//! (`src/bin/file-writer.rs`) on real temp dirs.

use std::{
    collections::HashSet,
    fs,
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    time::Duration,
};

use actix_typed_session::{
    store::{ChangeSet, FileStore, Keys, Prune as _, SessionStore},
    SessionId, StoreError,
};

const WRITER: &str = env!("CARGO_BIN_EXE_file-writer");
const HOUR: Duration = Duration::from_secs(3600);
/// Kills that must land between creating a temporary file and renaming it.
const MID_WRITE_KILLS: usize = 5;
const MAX_ROUNDS: usize = 60;

/// Kills (SIGKILL) and reaps the child when dropped, so a failing test leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn writer(args: &[&str]) -> Killed {
    Killed(
        Command::new(WRITER)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start file-writer"),
    )
}

/// Several processes apply change sets to one session at once, each to its own keys: every
/// change survives, because writers lock the session across processes.
#[actix_web::test]
async fn processes_merge_changes_to_one_session() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::new(tmp.path()).unwrap();
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("start", "0"), HOUR)
        .await
        .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let count = 150;
    let mut writers: Vec<Killed> = ["p", "q", "r"]
        .iter()
        .map(|tag| writer(&["merge", dir, id.as_str(), tag, &count.to_string()]))
        .collect();
    // This process writes too, through its own store instance.
    for i in 0..count {
        let changes = ChangeSet::update().upsert(format!("t-{i}"), i.to_string());
        store.save(&id, &changes, HOUR).await.unwrap();
    }
    for w in &mut writers {
        let status = w.0.wait().unwrap();
        assert!(status.success(), "writer failed: {status}");
    }
    let loaded = store.load(&id, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(loaded.len(), 1 + 4 * count, "lost updates across processes");
    for tag in ["p", "q", "r", "t"] {
        for i in 0..count {
            assert_eq!(loaded[&format!("{tag}-{i}")], i.to_string());
        }
    }
}

/// Every session file in `dir` is whole: it loads, or the session is cleanly absent.
async fn assert_all_sessions_load(dir: &Path, store: &FileStore) -> usize {
    let mut sessions = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(id) = name
            .strip_prefix("session-")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let id = SessionId::try_from(id).unwrap();
        match store.load(&id, Keys::All, None).await {
            Ok(Some(entries)) => {
                let n: usize = entries["n"].parse().unwrap();
                let blob = &entries["blob"];
                assert_eq!(
                    blob.len(),
                    (n * 7919) % (16 * 1024) + 2,
                    "blob of write {n}"
                );
                sessions += 1;
            }
            Ok(None) => {}
            Err(StoreError::Corrupt(err)) => panic!("{name} is torn: {err}"),
            Err(err) => panic!("{name}: {err}"),
        }
    }
    sessions
}

fn wait_for_writes(out: &mut BufReader<ChildStdout>, writes: usize) {
    let mut line = String::new();
    for _ in 0..writes {
        line.clear();
        let read = out.read_line(&mut line).unwrap();
        assert!(read > 0, "the writer exited early");
    }
}

/// SIGKILL a process in a tight write loop, many times over one directory: every session
/// file left behind is whole. Runs until several kills have landed mid-write (seen as the
/// temporary file the killed write left), within a bounded number of rounds.
#[actix_web::test]
async fn killed_writers_never_leave_a_torn_session() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let mut temps = HashSet::new();
    let mut rounds = 0;
    while temps.len() < MID_WRITE_KILLS {
        assert!(
            rounds < MAX_ROUNDS,
            "only {} of {rounds} kills landed mid-write",
            temps.len()
        );
        let mut child = writer(&["hammer", dir]);
        let mut out = BufReader::new(child.0.stdout.take().unwrap());
        // Kill after a varying number of writes and a varying delay, so that the kill lands
        // at different points of a write.
        wait_for_writes(&mut out, 3 + (rounds % 10) * 5);
        std::thread::sleep(Duration::from_micros((rounds as u64 * 1_733) % 6_000));
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        rounds += 1;
        temps.extend(fs::read_dir(dir).unwrap().filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".tmp").then_some(name)
        }));
        let store = FileStore::new(dir).unwrap();
        let sessions = assert_all_sessions_load(tmp.path(), &store).await;
        assert!(sessions > 0, "round {rounds} left no session at all");
    }
    let store = FileStore::new(dir).unwrap();
    let report = store.prune().await.unwrap();
    assert_eq!(report.corrupt, 0);
    eprintln!("{rounds} kills, {} of them mid-write", temps.len());
}
