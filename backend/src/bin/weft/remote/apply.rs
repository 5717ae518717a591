//! `weft apply DIR|FILE…`: definitions kept in git, saved to a server from CI. Every file is
//! read and validated before anything is saved, so one broken file saves nothing and is named.
//! Files are saved in an order that lets a `subflow` or `map` name a workflow saved by another
//! file of the same apply; the server keeps the version of an unchanged definition.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;
use shared::api::{SavedWorkflow, WorkflowVersion};
use shared::validate::{Severity, is_valid, parse_and_validate};

use super::{ApplyArgs, CliError, Remote, client::Client, finish};

/// What applying one file did.
#[derive(Debug, Serialize)]
struct Applied {
    file: String,
    workflow: String,
    /// `created`, `updated`, `unchanged`; with `--dry-run`, `would create` or `would update`.
    change: &'static str,
    version: Option<i64>,
}

/// One definition read from disk.
struct Definition {
    file: String,
    name: String,
    body: Value,
    /// The parsed definition serialized again: what the server stores for it.
    canonical: Value,
}

pub(crate) fn apply(remote: &Remote, args: &ApplyArgs) -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    finish(rt.block_on(run(remote, args)))
}

async fn run(remote: &Remote, args: &ApplyArgs) -> Result<(), CliError> {
    let defs = read_all(&args.paths)?;
    let api = remote.client();
    if args.dry_run {
        let mut planned = Vec::new();
        for def in &defs {
            planned.push(plan(&api, def).await?);
        }
        return report(remote.json, &planned);
    }
    let mut pending = defs;
    let mut done = Vec::new();
    // A round saves every file it can; a file refused only because it names a workflow no
    // one has saved yet waits for the next round. A round that saves nothing ends it.
    loop {
        let mut waiting = Vec::new();
        let mut refusal = None;
        let mut saved = 0;
        for def in pending {
            match save(&api, &def).await {
                Ok(applied) => {
                    if !remote.json {
                        println!(
                            "{}: {} {}",
                            applied.file,
                            applied.workflow,
                            describe(&applied)
                        );
                    }
                    done.push(applied);
                    saved += 1;
                }
                Err(e @ CliError::Api { status: 422, .. }) if names_unknown_workflow(&e) => {
                    refusal = Some(format!("{}: {e}", def.file));
                    waiting.push(def);
                }
                Err(e) => return Err(CliError::Input(format!("{}: {e}", def.file))),
            }
        }
        if waiting.is_empty() {
            break;
        }
        if saved == 0 {
            return Err(CliError::Input(refusal.expect("a refusal made files wait")));
        }
        pending = waiting;
    }
    if remote.json {
        report(true, &done)?;
    }
    Ok(())
}

/// A 422 whose only findings are `unknown_workflow`: another file may still save that one.
fn names_unknown_workflow(e: &CliError) -> bool {
    let CliError::Api { details, .. } = e else {
        return false;
    };
    details
        .as_ref()
        .and_then(|d| d.get("diagnostics"))
        .and_then(Value::as_array)
        .is_some_and(|list| {
            !list.is_empty()
                && list
                    .iter()
                    .all(|d| d.get("code").and_then(Value::as_str) == Some("unknown_workflow"))
        })
}

async fn save(api: &Client, def: &Definition) -> Result<Applied, CliError> {
    let (status, saved): (StatusCode, SavedWorkflow) = api
        .send(
            Method::PUT,
            &format!("/workflows/{}", def.name),
            Some(&def.body),
        )
        .await?;
    let change = match (status, saved.version) {
        (StatusCode::OK, _) => "unchanged",
        (_, 1) => "created",
        _ => "updated",
    };
    Ok(Applied {
        file: def.file.clone(),
        workflow: saved.name,
        change,
        version: Some(saved.version),
    })
}

/// What `--dry-run` says: the server's latest version compared with the file's canonical
/// form (the form the server stores and compares).
async fn plan(api: &Client, def: &Definition) -> Result<Applied, CliError> {
    let latest: Result<WorkflowVersion, _> = api.get(&format!("/workflows/{}", def.name)).await;
    let (change, version) = match latest {
        Ok(v) if v.definition == def.canonical && !v.archived => ("unchanged", v.version),
        Ok(v) => ("would update", v.version + 1),
        Err(CliError::Api { status: 404, .. }) => ("would create", 1),
        Err(e) => return Err(CliError::Input(format!("{}: {e}", def.file))),
    };
    Ok(Applied {
        file: def.file.clone(),
        workflow: def.name.clone(),
        change,
        version: Some(version),
    })
}

fn describe(a: &Applied) -> String {
    match (a.change, a.version) {
        ("updated" | "would update", Some(v)) => format!("{}: v{} → v{v}", a.change, v - 1),
        (change, Some(v)) => format!("{change} (v{v})"),
        (change, None) => change.to_owned(),
    }
}

fn report(json: bool, applied: &[Applied]) -> Result<(), CliError> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(applied).expect("serializable")
        );
    } else {
        for a in applied {
            println!("{}: {} {}", a.file, a.workflow, describe(a));
        }
    }
    Ok(())
}

/// Reads and validates every file; any problem in any file is an error naming it, and then
/// nothing is saved.
fn read_all(paths: &[PathBuf]) -> Result<Vec<Definition>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(CliError::Input("no .json definition files to apply".into()));
    }
    let mut problems = Vec::new();
    let mut defs = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for file in &files {
        match read_one(file) {
            Ok(def) => match names.insert(def.name.clone(), def.file.clone()) {
                Some(other) => problems.push(format!(
                    "{}: workflow `{}` is also defined in {other}",
                    def.file, def.name
                )),
                None => defs.push(def),
            },
            Err(lines) => problems.extend(lines),
        }
    }
    if problems.is_empty() {
        Ok(defs)
    } else {
        Err(CliError::Input(format!(
            "nothing applied:\n{}",
            problems.join("\n")
        )))
    }
}

/// One file's definition, or the lines that say what is wrong with it.
fn read_one(path: &Path) -> Result<Definition, Vec<String>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{file}: {e}")])?;
    let mut body: Value =
        serde_json::from_str(&text).map_err(|e| vec![format!("{file}: malformed JSON: {e}")])?;
    let Some(obj) = body.as_object_mut() else {
        return Err(vec![format!("{file}: a definition is a JSON object")]);
    };
    // A file without a `name` is the workflow its file is named after.
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.clone(),
        _ => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    obj.entry("name")
        .or_insert_with(|| Value::String(name.clone()));
    let (parsed, findings) = parse_and_validate(&body);
    if let (Some(wf), true) = (parsed, is_valid(&findings)) {
        let canonical = serde_json::to_value(&wf).expect("a definition serializes");
        return Ok(Definition {
            file,
            name,
            body,
            canonical,
        });
    }
    let mut lines: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            let at = f
                .node
                .as_ref()
                .map(|n| format!(" node {n}:"))
                .unwrap_or_default();
            format!("{file}: error [{}]{at} {}", f.code, f.message)
        })
        .collect();
    if lines.is_empty() {
        lines.push(format!("{file}: not a weft/v1 definition"));
    }
    Err(lines)
}
