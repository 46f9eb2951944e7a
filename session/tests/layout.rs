//! The module map follows the request flow, and dependencies point one way:
//! `middleware → session, cookie`; `session → cookie, store`; `store/cookie → cookie`; nothing
//! imports `middleware`; `cookie` imports neither `session` nor `store`. Checked on the source
//! text, so a new `use` that breaks the rule fails here rather than in review.

use std::{fs, path::Path};

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path.to_string_lossy().replace('\\', "/");
            out.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// The top-level crate modules `text` names: in `use crate::…;` statements (the first segment
/// of each entry of a `crate::{…}` group) and in inline `crate::module::` paths. Comments are
/// skipped.
fn crate_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut entry) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&entry));
                        entry.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    entry.push(c);
                } else if !entry.contains("::") {
                    entry.push_str("::");
                }
            }
            found.push(first_segment(&entry));
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn names_module(text: &str, module: &str) -> bool {
    crate_modules(text).iter().any(|m| m == module)
}

fn src() -> Vec<(String, String)> {
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn nothing_imports_the_middleware() {
    let offenders: Vec<_> = src()
        .into_iter()
        .filter(|(name, _)| !name.ends_with("/src/middleware.rs") && !name.ends_with("/src/lib.rs"))
        .filter(|(_, text)| names_module(text, "middleware"))
        .map(|(name, _)| name)
        .collect();
    assert!(
        offenders.is_empty(),
        "these import the middleware: {offenders:?}"
    );
}

#[test]
fn the_cookie_module_imports_neither_session_nor_store() {
    let cookie: Vec<_> = src()
        .into_iter()
        .filter(|(name, _)| name.ends_with("/src/cookie.rs") || name.contains("/src/cookie/"))
        .collect();
    assert!(
        cookie.len() >= 2,
        "cookie.rs and its submodules: {cookie:?}"
    );
    for (name, text) in cookie {
        // Its unit tests may build a store to exercise the cookie; the module itself may not.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for module in ["session", "store"] {
            assert!(!names_module(code, module), "{name} imports `{module}`");
        }
    }
}

#[test]
fn the_checker_sees_an_import() {
    assert!(names_module(
        "use crate::{\n    middleware::SessionService,",
        "middleware"
    ));
    assert!(names_module("    x: crate::middleware::Foo,", "middleware"));
    assert!(names_module("use crate::{session::Meta, x};", "session"));
    assert!(names_module(
        "use crate::{a, b::{c, d},\n session};",
        "session"
    ));
    assert!(!names_module(
        "/// see crate::middleware::Foo",
        "middleware"
    ));
    assert!(!names_module(
        "use crate::{cookie::{session, store}};",
        "session"
    ));
    assert!(!names_module("use crate::{sessions::X};", "session"));
}

#[test]
fn files_stay_small() {
    for (name, text) in src() {
        let code = text.split("\n#[cfg(test)]\nmod tests {").next().unwrap();
        let lines = code.lines().count();
        // No exemptions: a file that outgrows this is split by idea.
        assert!(lines <= 640, "{name} has {lines} lines (limit 640)");
    }
}

#[test]
fn module_files_are_named_after_their_module() {
    let stray: Vec<_> = src()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.ends_with("/mod.rs"))
        .collect();
    assert!(stray.is_empty(), "use `foo.rs` beside `foo/`: {stray:?}");
}
