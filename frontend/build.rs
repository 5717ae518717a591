//! Embeds every workflow in the repository's `examples/` as a template: writes
//! `$OUT_DIR/templates.rs`, a list of `(file name, include_str!(…))` sorted by name, so a new
//! example file shows in the start page's gallery without a code change.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let examples = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("..")
        .join("examples");
    // A directory's modification time changes when a file is added or removed.
    println!("cargo:rerun-if-changed={}", examples.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&examples)
        .unwrap_or_else(|e| panic!("reading {}: {e}", examples.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every `examples/*.json`: its file name and its text.\npub(super) const FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 file name");
        let full = fs::canonicalize(path).expect("an existing file");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            full.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("templates.rs");
    fs::write(target, out).expect("writing templates.rs");
}
