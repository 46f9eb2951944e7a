//! Both SQLite users in one program: the app's own rusqlite and our SQLite store.

use actix_typed_session::store::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("compat-newest-rusqlite");
    std::fs::create_dir_all(&dir)?;
    let conn = rusqlite::Connection::open(dir.join("app.db"))?;
    let version: String = conn.query_row("SELECT sqlite_version()", [], |row| row.get(0))?;
    let store = SqliteStore::open(dir.join("sessions.db"))?;
    println!("SQLite {version}; sessions in {}", store.path().display());
    Ok(())
}
