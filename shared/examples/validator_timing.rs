//! How long the validator takes on the largest definitions the limits allow, and on one five
//! times over them (refused by the limit). Wall times are machine-dependent, so they are
//! printed here rather than asserted in a test; run it in release:
//!
//! ```text
//! cargo run --release -p shared --example validator_timing
//! ```

#[path = "../tests/common/large.rs"]
mod large;

use std::time::{Duration, Instant};

use serde_json::Value;
use shared::limits::{MAX_EDGES, MAX_NODES};
use shared::validate::parse_and_validate;

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let cases: [(&str, Value); 6] = [
        ("chain, 2,000 nodes", large::chain(MAX_NODES)),
        (
            "parallel chain, 2,000 nodes, 10,000 edges",
            large::parallel_chain(MAX_NODES, MAX_EDGES),
        ),
        ("fan, 2,000 nodes", large::fan(MAX_NODES)),
        ("diamonds, 2,000 nodes", large::diamonds(MAX_NODES)),
        ("chain, 10,000 nodes (refused)", large::chain(5 * MAX_NODES)),
        (
            "parallel chain, 10,000 nodes (refused)",
            large::parallel_chain(5 * MAX_NODES, 2 * MAX_EDGES),
        ),
    ];
    println!(
        "{:<42} {:>9} {:>12} {:>12} {:>9}",
        "definition", "KiB", "JSON parse", "validate", "findings"
    );
    for (name, def) in cases {
        let text = serde_json::to_vec(&def).expect("serialize");
        let parse = median(11, || {
            std::hint::black_box(serde_json::from_slice::<Value>(&text).expect("json"));
        });
        let mut findings = 0;
        let validate = median(11, || {
            findings = parse_and_validate(&def).1.len();
        });
        println!(
            "{name:<42} {:>9} {:>12.2?} {:>12.2?} {findings:>9}",
            text.len() / 1024,
            parse,
            validate
        );
    }
}
