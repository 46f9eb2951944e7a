//! Test support for the integration tests in `tests/`: real servers started and stopped here.

pub mod counted;
pub mod postgres_server;
pub mod redis_server;
