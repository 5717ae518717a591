//! The run's nodes with their live states. Until the designer's graph renderer is merged in,
//! they are a list, in definition order; each row selects its node.

use leptos::prelude::*;
use shared::model::Workflow;

use super::state::RunState;

#[component]
pub fn RunGraph(
    state: RwSignal<RunState>,
    workflow: StoredValue<Workflow>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let nodes = workflow.with_value(|wf| {
        wf.nodes
            .iter()
            .map(|n| (n.id.clone(), n.type_name(), n.label.clone()))
            .collect::<Vec<_>>()
    });
    view! {
        <ul class="node-list" data-testid="run-graph">
            {nodes
                .into_iter()
                .map(|(id, type_name, label)| {
                    let status = {
                        let id = id.clone();
                        Signal::derive(move || state.with(|s| s.node(&id).status.as_str()))
                    };
                    let is_selected = {
                        let id = id.clone();
                        move || selected.with(|s| s.as_deref() == Some(id.as_str()))
                    };
                    let pick = id.clone();
                    view! {
                        <li>
                            <button
                                class=move || format!("node-row state-{}", status.get())
                                class:selected=is_selected
                                data-testid=format!("node-{id}")
                                data-node=id.clone()
                                data-state=status
                                on:click=move |_| selected.set(Some(pick.clone()))
                            >
                                <span class="node-dot" aria-hidden="true"></span>
                                <code class="node-id">{id.clone()}</code>
                                <span class="node-type">{type_name}</span>
                                <span class="node-label">{label}</span>
                                <span class="node-status">{status}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
