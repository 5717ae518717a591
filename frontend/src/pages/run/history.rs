//! The run's history: every event with its `seq`, time, type and node, its data expandable
//! as formatted JSON, filterable by node. It is the log the engine replays, shown as is.

use leptos::prelude::*;

use super::format;
use super::state::RunState;

#[component]
pub fn History(state: RwSignal<RunState>) -> impl IntoView {
    let filter = RwSignal::new(String::new());
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
    let shown = move || {
        let wanted = filter.get();
        state.with(|s| {
            s.events
                .iter()
                .filter(|e| wanted.is_empty() || e.node.as_deref() == Some(wanted.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        })
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
        </section>
    }
}
