//! The module map follows the request flow, and dependencies point one way. The rules, each
//! checked here on the source text (so a new `use` that breaks one fails here rather than in
//! review), over every file's code outside its `#[cfg(test)]` module, with names the crate
//! root re-exports (`crate::SessionMiddleware`) counted as imports of the module they come
//! from:
//! 1. the top-level modules import each other without a cycle;
//! 2. nothing imports `middleware` but `testing`, which builds apps with it as an app does;
//! 3. `cookie` (the wire format) imports neither `session` nor `store`;
//! 4. `store` imports neither `session` nor `middleware`: stores know nothing of requests;
//! 5. `config` (settings) imports none of `cookie`, `session`, `store`, `import`, `transport`
//!    and `middleware`;
//! 6. no file under `src` is over 640 lines before its tests, with no exemption;
//! 7. a module with submodules is `foo.rs` beside `foo/`, never `foo/mod.rs`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

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

fn src() -> Vec<(String, String)> {
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The text before a file's unit tests: those may use any module to exercise theirs.
fn code(text: &str) -> &str {
    text.split("#[cfg(test)]\nmod tests").next().unwrap()
}

/// The crate's top-level modules, and the names lib.rs re-exports from each (`pub use
/// session::{Session, …};` maps `Session` to `session`).
struct Root {
    modules: BTreeSet<String>,
    reexports: BTreeMap<String, String>,
}

impl Root {
    fn parse(lib: &str) -> Self {
        let mut modules = BTreeSet::new();
        let mut reexports = BTreeMap::new();
        // Comments and attributes (one line each in lib.rs) out, then statement by statement.
        let code: String = lib
            .lines()
            .filter(|line| {
                !line.trim_start().starts_with("//") && !line.trim_start().starts_with('#')
            })
            .collect::<Vec<_>>()
            .join("\n");
        for statement in code.split(';') {
            let words: Vec<&str> = statement.split_whitespace().collect();
            match words.as_slice() {
                [.., "mod", name] => {
                    modules.insert(name.to_string());
                }
                ["pub", "use", path @ ..] if !path.is_empty() => {
                    let path = path.join(" ");
                    let module = first_segment(&path);
                    for name in path[module.len()..]
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .filter(|name| !name.is_empty() && *name != "as" && *name != "self")
                    {
                        reexports.insert(name.to_owned(), module.clone());
                    }
                }
                _ => {}
            }
        }
        // Only re-exports of the crate's own modules count (not `pub use redis;`).
        reexports.retain(|_, module| modules.contains(module));
        Self { modules, reexports }
    }

    /// The top-level modules `text` imports, directly or through a root re-export.
    fn imports(&self, text: &str) -> BTreeSet<String> {
        crate_modules(text)
            .into_iter()
            .filter_map(|name| {
                if self.modules.contains(&name) {
                    Some(name)
                } else {
                    self.reexports.get(&name).cloned()
                }
            })
            .collect()
    }
}

/// Each top-level module (a file and its directory) and the others it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = src();
    let lib = &files
        .iter()
        .find(|(name, _)| name.ends_with("/src/lib.rs"))
        .expect("src/lib.rs")
        .1;
    let root = Root::parse(lib);
    assert!(
        root.modules.len() >= 15 && root.reexports.contains_key("SessionMiddleware"),
        "lib.rs parsed: {:?} {:?}",
        root.modules,
        root.reexports
    );
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &files {
        let relative = name.split("/src/").last().unwrap();
        let top = relative.split('/').next().unwrap().trim_end_matches(".rs");
        if top == "lib" {
            continue;
        }
        assert!(
            root.modules.contains(top),
            "{name}: not a module lib.rs declares"
        );
        let imports = graph.entry(top.to_owned()).or_default();
        imports.extend(root.imports(code(text)));
        imports.remove(top);
    }
    graph
}

/// Who imports `module`.
fn importers(graph: &BTreeMap<String, BTreeSet<String>>, module: &str) -> Vec<String> {
    graph
        .iter()
        .filter(|(_, imports)| imports.contains(module))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A cycle in `graph`, if there is one (depth-first search).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_import_each_other_without_a_cycle() {
    let graph = graph();
    assert_eq!(cycle(&graph), None, "the import graph: {graph:#?}");
}

#[test]
fn nothing_but_testing_imports_the_middleware() {
    assert_eq!(importers(&graph(), "middleware"), ["testing"]);
}

#[test]
fn the_cookie_module_imports_neither_session_nor_store() {
    let graph = graph();
    for module in ["session", "store"] {
        assert!(
            !graph["cookie"].contains(module),
            "cookie imports `{module}`"
        );
    }
}

#[test]
fn stores_know_nothing_of_requests() {
    let graph = graph();
    for module in ["session", "middleware"] {
        assert!(!graph["store"].contains(module), "store imports `{module}`");
    }
}

#[test]
fn the_settings_import_no_machinery() {
    let graph = graph();
    for module in [
        "cookie",
        "session",
        "store",
        "import",
        "transport",
        "middleware",
    ] {
        assert!(
            !graph["config"].contains(module),
            "config imports `{module}`"
        );
    }
}

#[test]
fn the_checker_sees_an_import() {
    let names = |text: &str| crate_modules(text);
    assert_eq!(
        names("use crate::{\n    middleware::SessionService,"),
        ["middleware"]
    );
    assert_eq!(names("    x: crate::middleware::Foo,"), ["middleware"]);
    assert_eq!(names("use crate::{session::Meta, x};"), ["session", "x"]);
    assert_eq!(
        names("use crate::{a, b::{c, d},\n session};"),
        ["a", "b", "session"]
    );
    assert!(names("/// see crate::middleware::Foo").is_empty());
    assert_eq!(names("use crate::{cookie::{session, store}};"), ["cookie"]);

    let root = Root::parse(
        "//! docs\nmod middleware;\n#[cfg(feature = \"x\")]\npub mod store;\nmod session;\n\
         pub use redis;\npub use middleware::{\n    SessionMiddleware,\n    Builder as B,\n};\n\
         pub use store::Entries;",
    );
    assert_eq!(root.modules.len(), 3);
    // Through a root re-export, alone or in a group, and under an alias.
    for text in [
        "use crate::SessionMiddleware;",
        "use crate::{SessionError, SessionMiddleware};",
        "fn f(_: crate::B) {}",
    ] {
        assert_eq!(
            root.imports(text),
            BTreeSet::from(["middleware".to_owned()]),
            "{text}"
        );
    }
    assert_eq!(
        root.imports("use crate::{Entries, session::X};"),
        BTreeSet::from(["store".to_owned(), "session".to_owned()])
    );
    assert!(root.imports("use crate::redis;").is_empty());

    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        graph
    };
    assert_eq!(cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
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
