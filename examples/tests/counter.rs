//! The quick start and its typed twin serve and count, as the README promises.

mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

#[test]
fn counter_counts_visits() {
    counts_visits(env!("CARGO_BIN_EXE_counter"));
}

#[test]
fn counter_typed_counts_visits() {
    counts_visits(env!("CARGO_BIN_EXE_counter_typed"));
}

fn counts_visits(bin: &str) {
    let port = support::free_port();
    let mut child = Command::new(bin)
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The app prints its URL once it listens.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        assert!(
            line.contains(&format!("http://127.0.0.1:{port}/")),
            "{line}"
        );
        let first = support::get(port, "/", None);
        assert!(
            first.body.contains("visited this page 1 time"),
            "{}",
            first.body
        );
        let cookie = first.cookie().unwrap();
        let second = support::get(port, "/", Some(&cookie));
        assert!(
            second.body.contains("visited this page 2 time"),
            "{}",
            second.body
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    result.unwrap();
}
