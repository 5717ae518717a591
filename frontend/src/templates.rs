//! The workflow templates the start page's gallery offers: every `.json` file in the
//! repository's `examples/`, embedded at build time by `build.rs` (no server call, and a new
//! example appears without a code change).

use shared::model::Workflow;

mod files {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// One example, read as a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The file it came from in `examples/` (a stable key for tests and links).
    pub file: &'static str,
    pub workflow: Workflow,
}

impl Template {
    /// The file name without `.json`.
    pub fn slug(&self) -> &'static str {
        self.file.strip_suffix(".json").unwrap_or(self.file)
    }
}

/// Every example that reads as a workflow, by file name. One that does not is left out
/// (the unit test below fails on it, so none ships).
pub fn all() -> Vec<Template> {
    files::FILES
        .iter()
        .filter_map(|(file, text)| {
            let json = serde_json::from_str(text).ok()?;
            let workflow = shared::validate::parse(&json).ok()?;
            Some(Template { file, workflow })
        })
        .collect()
}

/// `base`, or `base-2`, `base-3`… whichever no workflow in `taken` is called yet, so a
/// template used twice does not open on top of the first copy.
pub fn free_name(base: &str, taken: &[String]) -> String {
    let free = |name: &str| !taken.iter().any(|t| t == name);
    if free(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| free(name))
        .expect("an unbounded range ends in a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `examples/` is a template that reads as a valid workflow: a file the
    /// build did not embed, or one that does not parse or validate, fails here.
    #[test]
    fn every_example_is_an_embedded_valid_template() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = all().iter().map(|t| t.file).collect();
        assert_eq!(embedded, on_disk);
        for t in all() {
            let errors: Vec<_> = shared::validate(&t.workflow)
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", t.file);
            assert!(
                shared::validate::valid_workflow_name(&t.workflow.name),
                "{}",
                t.file
            );
        }
    }

    #[test]
    fn a_taken_name_gets_the_first_free_suffix() {
        let taken = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(free_name("orders", &taken(&[])), "orders");
        assert_eq!(free_name("orders", &taken(&["orders"])), "orders-2");
        assert_eq!(
            free_name("orders", &taken(&["orders", "orders-2", "orders-3"])),
            "orders-4"
        );
        assert_eq!(free_name("orders", &taken(&["orders-2"])), "orders");
    }
}
