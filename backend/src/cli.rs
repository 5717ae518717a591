//! One-shot commands of the `weft` program: `weft validate FILE…`.

use std::path::PathBuf;
use std::process::ExitCode;

use shared::validate::{Severity, is_valid, parse_and_validate};

/// Prints every finding as `file: severity [code] node: message`; exit 1 on any error.
pub fn validate_files(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for file in files {
        let name = file.display();
        let json = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str(&text).map_err(|e| format!("malformed JSON: {e}"))
            }) {
            Ok(json) => json,
            Err(e) => {
                println!("{name}: error [unreadable] {e}");
                ok = false;
                continue;
            }
        };
        let (_, findings) = parse_and_validate(&json);
        if findings.is_empty() {
            println!("{name}: ok");
        }
        for f in &findings {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let at = match (&f.node, f.edge) {
                (Some(n), _) => format!(" node {n}:"),
                (None, Some(e)) => format!(" edge {e}:"),
                (None, None) => String::new(),
            };
            println!("{name}: {severity} [{}]{at} {}", f.code, f.message);
        }
        ok &= is_valid(&findings);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
