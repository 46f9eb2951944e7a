//! sqlx's SQLite driver and our SQLite store in one program, and the app's own `sqlx::PgPool`
//! handed to our PostgreSQL store: it compiles only if that is the type the store takes.

use actix_typed_session::store::{PostgresStore, SqliteStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("compat-sqlx-sqlite");
    std::fs::create_dir_all(&dir)?;
    let app_db =
        sqlx::SqlitePool::connect_lazy(&format!("sqlite://{}", dir.join("app.db").display()))?;
    let sessions = SqliteStore::open(dir.join("sessions.db"))?;
    let pool: sqlx::PgPool = sqlx::PgPool::connect_lazy("postgres://app@localhost/app")?;
    let shared = PostgresStore::with_pool(pool).build()?;
    println!("{app_db:?} {sessions:?} {shared:?}");
    Ok(())
}
