//! The run's history: every event with its `seq`, time, type and node, its data expandable
//! as formatted JSON, filterable by node. It is the log the engine replays, shown as is. A
//! long log (a run of 10,000 events) shows its first [`PAGE`] events and a button for more, so
//! opening the run does not put every event in the document.

use leptos::prelude::*;

use super::format;
use super::state::RunState;

/// How many events the list shows at first, and how many more each "Show more" adds.
const PAGE: usize = 250;

#[component]
pub fn History(state: RwSignal<RunState>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let limit = RwSignal::new(PAGE);
    let nodes = Memo::new(move |_| {
        state.with(|s| {
            let mut seen: Vec<String> = Vec::new();
            for node in s.events.iter().filter_map(|e| e.node.as_ref()) {
                if !seen.contains(node) {
                    seen.push(node.clone());
                }
            }
            seen
        })
    });
    let matching = move |e: &shared::api::RunEvent, wanted: &str| {
        wanted.is_empty() || e.node.as_deref() == Some(wanted)
    };
    let shown = move || {
        let wanted = filter.get();
        state.with(|s| {
            s.events
                .iter()
                .filter(|e| matching(e, &wanted))
                .take(limit.get())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let hidden = move || {
        let wanted = filter.get();
        let total = state.with(|s| s.events.iter().filter(|e| matching(e, &wanted)).count());
        total.saturating_sub(limit.get())
    };
    view! {
        <section class="card history-card" data-testid="history">
            <div class="card-head">
                <h2>"History"</h2>
                <span class="muted">{move || format!("{} events", state.with(|s| s.events.len()))}</span>
                <div class="card-actions">
                    <label class="inline-field">
                        <span>"Node"</span>
                        <select
                            class="input"
                            data-testid="history-node-filter"
                            prop:value=move || filter.get()
                            on:change=move |ev| filter.set(event_target_value(&ev))
                        >
                            <option value="">"All nodes"</option>
                            <For each=move || nodes.get() key=|n| n.clone() let:node>
                                <option value=node.clone()>{node.clone()}</option>
                            </For>
                        </select>
                    </label>
                </div>
            </div>
            <ol class="events">
                <For each=shown key=|e| e.seq let:event>
                    <li class="event" data-testid="history-event" data-type=event.kind.clone()>
                        <details>
                            <summary>
                                <span class="event-seq">{event.seq}</span>
                                <span class="event-time">{format::clock_ms(event.at)}</span>
                                <span class=format!("event-type type-{}", event.kind)>
                                    {event.kind.clone()}
                                </span>
                                <span class="event-node">
                                    {event.node.clone().unwrap_or_default()}
                                </span>
                            </summary>
                            <pre class="json" data-testid="history-data">
                                {format::pretty(&event.data)}
                            </pre>
                        </details>
                    </li>
                </For>
            </ol>
            <Show when=move || hidden() != 0>
                <button class="btn history-more" data-testid="history-more" on:click=move |_| limit.update(|l| *l += PAGE)>
                    {move || format!("Show {} more of {} not shown", hidden().min(PAGE), hidden())}
                </button>
            </Show>
        </section>
    }
}
