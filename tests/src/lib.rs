//! Test support for the integration tests in `tests/`: real servers started and stopped here,
//! and the model-checked concurrency harness.

pub mod counted;
pub mod harness;
pub mod postgres_server;
pub mod redis_server;
