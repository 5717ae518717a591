//! How long the hostile templates we know of take to exhaust their budget
//! (`shared::limits::TEMPLATE_FUEL`), and whether each is quick (`template::is_quick`): only a
//! quick one renders inside the engine's single-writer loop, so the slowest quick template is
//! what a render can cost the other runs. Wall times are machine-dependent, so they are
//! printed rather than asserted; run it in release:
//!
//! ```text
//! cargo run --release -p shared --example template_budget
//! ```

use std::time::{Duration, Instant};

use serde_json::json;
use shared::template;

/// Templates that do as much work per fuel as we could find: loops, big strings compared,
/// sorted, searched, split and serialized. `HALF` is replaced by the length of a string
/// that takes half the fuel (MiniJinja charges one fuel per 64 bytes), `QUARTER` by half of
/// that, so each template spends its budget where it hurts most.
const HOSTILE: &[&str] = &[
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 20000000 }}",
    "{% set s = 'x' * HALF %}{{ ([s] * 100000) | sort | length }}",
    "{% set s = 'x' * HALF %}{{ ([s] * 100000) | unique | length }}",
    "{% set s = 'x' * HALF %}{{ ([s] * 100000) | max | length }}",
    "{% set s = 'x' * HALF %}{{ (([s] * 100000) | dictsort) if false else ([s] * 100000) | sort(reverse=true) | length }}",
    "{% set a = 'x' * QUARTER %}{% set b = 'x' * QUARTER %}{% for i in range(100000) %}{% if a == b %}{% endif %}{% endfor %}",
    "{% set a = 'x' * QUARTER %}{% set b = 'x' * QUARTER %}{% for i in range(100000) %}{% if a < b %}{% endif %}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ 'y' in s }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s | length }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s[-1] }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s.startswith('y') }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s is lower }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s.count('y') }}{% endfor %}",
    "{% set s = 'x' * HALF %}{% for i in range(100000) %}{{ s | trim | length }}{% endfor %}",
    "{{ range(100000) | list | tojson | length }}",
    "{{ ('x' * HALF) | replace('x', 'yy') | length }}",
    "{{ ('x ' * QUARTER) | title | length }}",
    "{{ ('x' * HALF) | urlencode | length }}",
    "{{ range(100000) | list | sort(reverse=true) | first }}",
    "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'xxxxxxxxxx' %}{% endfor %}",
    "{% macro f(n) %}{{ f(n + 1) }}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{{ range(100000) | batch(3) | list | length }}",
    "{% set d = dict(range(100000) | map('string') | zip(range(100000))) %}{{ d | length }}",
];

/// Steps a quick template may repeat, each as costly as we could make it without a loop: a
/// whole-string scan, comparison or search of the biggest string the fuel allows.
const QUICK_STEPS: &[&str] = &[
    "{{ 'y' in s }}",
    "{{ s == t }}",
    "{{ s < t }}",
    "{{ s[-1] }}",
    "{{ s | length }}",
    "{{ s | trim | length }}",
    "{{ s | replace('y', 'z') | length }}",
];

/// The longest template repeating `step` after `prefix` that is still quick.
fn longest_quick(prefix: &str, step: &str) -> String {
    let mut t = prefix.to_owned();
    while template::is_quick(&json!(format!("{t}{step}"))) {
        t.push_str(step);
    }
    t
}

fn main() {
    println!("TEMPLATE_FUEL = {}", shared::limits::TEMPLATE_FUEL);
    let mut worst = (Duration::ZERO, String::new());
    let half = shared::limits::TEMPLATE_FUEL * 32;
    let mut hostile: Vec<String> = HOSTILE
        .iter()
        .map(|t| {
            t.replace("HALF", &half.to_string())
                .replace("QUARTER", &(half / 2).to_string())
        })
        .collect();
    let prefix = format!(
        "{{% set s = 'x' * {q} %}}{{% set t = 'x' * {q} %}}",
        q = half / 2
    );
    hostile.extend(QUICK_STEPS.iter().map(|step| longest_quick(&prefix, step)));
    let mut worst_quick = (Duration::ZERO, String::new());
    for t in &hostile {
        let mut times = Vec::new();
        let mut outcome = String::new();
        for _ in 0..5 {
            let start = Instant::now();
            let r = template::render(&json!(t), &json!({}));
            times.push(start.elapsed());
            outcome = match r {
                Ok(v) => format!("ok ({} bytes)", v.to_string().len()),
                Err(e) => format!("{e:?}"),
            };
        }
        times.sort();
        let median = times[times.len() / 2];
        let quick = template::is_quick(&json!(t));
        if median > worst.0 {
            worst = (median, t.clone());
        }
        if quick && median > worst_quick.0 {
            worst_quick = (median, t.clone());
        }
        let shown: String = t.chars().take(140).collect();
        let how = if quick { "quick" } else { "apart" };
        println!("{median:>10.2?}  {how:<5}  {outcome:<28} {shown}");
    }
    let shown = |t: &str| t.chars().take(140).collect::<String>();
    println!("worst: {:.2?} for {}", worst.0, shown(&worst.1));
    println!(
        "worst quick (rendered in the engine's loop): {:.2?} for {}",
        worst_quick.0,
        shown(&worst_quick.1)
    );
}
