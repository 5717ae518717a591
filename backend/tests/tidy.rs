//! Tidy: rules every source file of the workspace keeps, checked by reading the files (as
//! rust-analyzer's `xtask/src/tidy.rs` does), so a review never has to.
//!
//! Each rule is a `#[test]` that runs [`check`] over a set of [`sources`] with a function
//! saying what is wrong with one file, if anything; the failure names every offending file.
//! To add a rule, add such a test (and unit-test its function on a small fixture).

use std::path::{Path, PathBuf};

/// One `.rs` file: its path relative to the workspace root, and its text.
struct Source {
    path: PathBuf,
    text: String,
}

/// The workspace root (the backend crate's parent).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the backend crate sits in the workspace")
}

/// Every `.rs` file under each of `dirs` (relative to the workspace root), sorted by path.
fn sources(dirs: &[&str]) -> Vec<Source> {
    let mut files = Vec::new();
    for dir in dirs {
        let dir = root().join(dir);
        assert!(dir.is_dir(), "{} is not a folder", dir.display());
        walk(&dir, &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|path| Source {
            text: std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
            path: path
                .strip_prefix(root())
                .expect("under the root")
                .to_path_buf(),
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Fails naming every file of `files` for which `rule` reports a problem.
#[track_caller]
fn check(files: &[Source], rule: impl Fn(&Source) -> Option<String>) {
    assert!(!files.is_empty(), "no files to check");
    let problems: Vec<String> = files
        .iter()
        .filter_map(|f| rule(f).map(|p| format!("  {}: {p}", f.path.display())))
        .collect();
    assert!(
        problems.is_empty(),
        "{} file(s) break the rule:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The crates' source folders.
const ALL: &[&str] = &["shared/src", "backend/src", "frontend/src"];

#[test]
fn every_module_opens_with_a_doc_comment() {
    check(&sources(ALL), |f| {
        (!opens_with_module_doc(&f.text))
            .then(|| "does not open with a `//!` comment saying why the module exists".into())
    });
}

/// True when the first line that is not blank is a `//!` inner doc comment with text.
fn opens_with_module_doc(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim_start().strip_prefix("//!"))
        .is_some_and(|doc| !doc.trim().is_empty())
}

#[test]
fn the_module_doc_rule_tells_a_documented_module_from_others() {
    assert!(opens_with_module_doc(
        "//! Why this exists.\n\nuse std::fmt;\n"
    ));
    assert!(opens_with_module_doc("\n//! After a blank line.\n"));
    for bad in [
        "",
        "use std::fmt;\n//! too late\n",
        "/// An item doc, not a module doc.\nfn f() {}\n",
        "// a plain comment\n",
        "//!\n//! an empty first line says nothing\n",
        "#![allow(dead_code)]\n//! after an attribute\n",
    ] {
        assert!(!opens_with_module_doc(bad), "accepted {bad:?}");
    }
}

#[test]
fn the_engine_imports_nothing_of_the_postgresql_store() {
    check(&sources(&["backend/src/engine"]), postgres_import);
}

/// Names a use of the PostgreSQL store (or of sqlx's PostgreSQL types) in an engine file.
fn postgres_import(f: &Source) -> Option<String> {
    const FORBIDDEN: [&str; 5] = [
        "store::postgres",
        "store::Postgres",
        "sqlx::postgres",
        "sqlx::Postgres",
        ".postgres()",
    ];
    f.text.lines().enumerate().find_map(|(n, line)| {
        let code = line.split("//").next().unwrap_or_default();
        FORBIDDEN.iter().find(|p| code.contains(*p)).map(|p| {
            format!(
                "line {}: uses `{p}`; coordination belongs in `cluster`",
                n + 1
            )
        })
    })
}

#[test]
fn the_postgres_rule_finds_uses_and_ignores_comments() {
    let file = |text: &str| Source {
        path: PathBuf::from("x.rs"),
        text: text.to_owned(),
    };
    assert!(postgres_import(&file("use crate::store::postgres::TaskRow;\n")).is_some());
    assert!(postgres_import(&file("let pg = store.postgres();\n")).is_some());
    assert!(
        postgres_import(&file(
            "// not store::postgres here\nuse crate::store::Store;\n"
        ))
        .is_none()
    );
}
