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

/// The README's quick start, and the crate docs', are this counter, line for line, so the program
/// a newcomer pastes is the one these tests run.
#[test]
fn the_readme_quick_start_is_the_counter() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = readme
        .split("\n## Quick start\n")
        .nth(1)
        .expect("README has a Quick start section");
    let code = section
        .split("```rust")
        .nth(1)
        .and_then(|rest| rest.split_once('\n'))
        .and_then(|(_, body)| body.split("\n```").next())
        .expect("the Quick start section has a rust code block");
    let counter = std::fs::read_to_string(format!("{root}/examples/src/bin/counter.rs")).unwrap();
    let program: Vec<&str> = counter
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .collect();
    assert_eq!(code.lines().collect::<Vec<_>>(), program, "README.md");

    // The crate docs (the docs.rs front page) carry the same program.
    let lib = std::fs::read_to_string(format!("{root}/session/src/lib.rs")).unwrap();
    let docs: Vec<&str> = lib
        .lines()
        .skip_while(|line| *line != "//! # Quick start")
        .skip_while(|line| *line != "//! ```no_run")
        .skip(1)
        .take_while(|line| *line != "//! ```")
        .map(|line| line.strip_prefix("//!").unwrap_or(line))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    assert_eq!(docs, program, "the crate docs");
}
