//! The runs list's filter form. Lists (workflow, status, page size) and the "Needs a
//! person" view apply at once; typed fields (run id, dates, an input field) apply on Enter
//! or Search, so the list is not reloaded on every keystroke. Every change becomes a new
//! address ([`ListQuery::href`]), which the page then loads.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::query::{Filters, ListQuery, MINUTE_MS};
use crate::api;
use shared::api::RunStatus;

/// The tabs above the form: every run, or those waiting for a person.
#[component]
pub fn Views(query: Memo<ListQuery>, apply: Callback<ListQuery>) -> impl IntoView {
    let set = move |needs: bool| {
        let q = query.get_untracked();
        let mut f = q.filters.clone();
        f.needs_person = needs;
        apply.run(q.with_filters(f));
    };
    let needs = move || query.with(|q| q.filters.needs_person);
    let tests = move || query.with(|q| q.filters.test);
    let show_tests = move |on: bool| {
        let q = query.get_untracked();
        let mut f = q.filters.clone();
        f.test = on;
        apply.run(q.with_filters(f));
    };
    view! {
        <div class="run-views" role="group" aria-label="Which runs">
            <button
                type="button"
                class="run-view"
                class:active=move || !needs()
                aria-pressed=move || (!needs()).to_string()
                data-testid="view-all"
                on:click=move |_| set(false)
            >
                "All runs"
            </button>
            <button
                type="button"
                class="run-view"
                class:active=needs
                aria-pressed=move || needs().to_string()
                data-testid="view-needs-person"
                on:click=move |_| set(true)
            >
                "Needs a person"
            </button>
            <label class="run-view-toggle" title="Test runs from the designer are hidden unless shown; they go a day after they began">
                <input
                    type="checkbox"
                    data-testid="show-test-runs"
                    prop:checked=tests
                    on:change=move |ev| show_tests(event_target_checked(&ev))
                />
                "Show test runs"
            </label>
        </div>
    }
}

#[component]
pub fn FilterForm(
    query: Memo<ListQuery>,
    apply: Callback<ListQuery>,
    names: LocalResource<api::Result<Vec<String>>>,
) -> impl IntoView {
    // What is typed and not applied yet; set again from the address whenever it changes
    // (back/forward, a clear-all, a shared link).
    let id = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let path = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    Effect::new(move |_| {
        let Some(f) = query.try_with(|q| q.filters.clone()) else {
            return;
        };
        id.set(f.id_prefix.unwrap_or_default());
        from.set(
            f.created_after
                .as_deref()
                .map(|t| local_input(t, 0))
                .unwrap_or_default(),
        );
        until.set(
            f.created_before
                .as_deref()
                .map(|t| local_input(t, -MINUTE_MS))
                .unwrap_or_default(),
        );
        let (p, v) = f.input.into_iter().next().unwrap_or_default();
        path.set(p);
        value.set(v);
    });
    // The typed fields, applied to the filters in the address.
    let typed = move |mut f: Filters| {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty())
        };
        f.id_prefix = text(id);
        f.created_after = text(from).map(|t| instant(&t, 0));
        f.created_before = text(until).map(|t| instant(&t, MINUTE_MS));
        f.input = match (text(path), value.get_untracked()) {
            (Some(p), v) => vec![(p, v)],
            (None, _) => Vec::new(),
        };
        f
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        apply.run(q.with_filters(typed(q.filters.clone())));
    };
    let set_select = move |key: &'static str, text: String| {
        let q = query.get_untracked();
        let mut f = typed(q.filters.clone());
        let text = Some(text).filter(|t| !t.is_empty());
        match key {
            "workflow" => f.workflow = text,
            _ => f.status = text.as_deref().and_then(RunStatus::parse),
        }
        apply.run(q.with_filters(f));
    };
    let clear = move |_| {
        let q = query.get_untracked();
        let keep = Filters {
            needs_person: q.filters.needs_person,
            test: q.filters.test,
            ..Filters::default()
        };
        apply.run(q.with_filters(keep));
    };
    let workflow = move || query.with(|q| q.filters.workflow.clone());
    let status = move || query.with(|q| q.filters.status);
    let text_input = move |label: &'static str,
                           testid: &'static str,
                           signal: RwSignal<String>,
                           placeholder: &'static str,
                           class: &'static str| {
        view! {
            <label class=format!("field filter-field {class}")>
                <span>{label}</span>
                <input
                    class="input"
                    type="text"
                    data-testid=testid
                    placeholder=placeholder
                    spellcheck="false"
                    autocomplete="off"
                    prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <form class="run-filters" data-testid="run-filters" on:submit=submit>
            {text_input("Run id", "filter-id", id, "whole or its beginning", "filter-id")}
            <label class="field filter-field">
                <span>"Workflow"</span>
                <select
                    class="input"
                    data-testid="filter-workflow"
                    prop:value=move || workflow().unwrap_or_default()
                    on:change=move |ev| set_select("workflow", event_target_value(&ev))
                >
                    <option value="">"All workflows"</option>
                    {move || {
                        let mut list = names.get().and_then(Result::ok).unwrap_or_default();
                        let current = workflow().unwrap_or_default();
                        if !current.is_empty() && !list.contains(&current) {
                            list.push(current.clone());
                        }
                        list.into_iter()
                            .map(|n| view! { <option value=n.clone() selected=n == current>{n.clone()}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <label class="field filter-field">
                <span>"Status"</span>
                <select
                    class="input"
                    data-testid="filter-status"
                    prop:value=move || status().map_or("", RunStatus::as_str)
                    on:change=move |ev| set_select("status", event_target_value(&ev))
                >
                    <option value="">"Any status"</option>
                    {RunStatus::ALL
                        .map(|s| view! { <option value=s.as_str() selected=move || status() == Some(s)>{s.as_str()}</option> })}
                </select>
            </label>
            <label class="field filter-field">
                <span>"Created from"</span>
                <input class="input" type="datetime-local" data-testid="filter-from"
                    prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) />
            </label>
            <label class="field filter-field">
                <span>"Created until"</span>
                <input class="input" type="datetime-local" data-testid="filter-until"
                    prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev)) />
            </label>
            <fieldset class="filter-input">
                <legend>"Input field"</legend>
                <div class="filter-input-pair">
                <input class="input" type="text" data-testid="filter-input-path" aria-label="Input field path"
                    placeholder="customer.id" spellcheck="false" autocomplete="off"
                    prop:value=move || path.get() on:input=move |ev| path.set(event_target_value(&ev)) />
                <span aria-hidden="true">"="</span>
                <input class="input" type="text" data-testid="filter-input-value" aria-label="Input field value"
                    placeholder="c-17" spellcheck="false" autocomplete="off"
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                </div>
            </fieldset>
            <div class="filter-buttons">
                <button type="submit" class="btn btn-primary" data-testid="filter-search">"Search"</button>
                <button type="button" class="btn" data-testid="filter-clear" on:click=clear
                    disabled=move || query.with(|q| Filters { needs_person: false, test: false, ..q.filters.clone() }.is_empty())>
                    "Clear all"
                </button>
            </div>
        </form>
    }
}

/// A `datetime-local` value (local time, to the minute) for an instant the address holds
/// (epoch ms, or any text `Date` reads), moved by `shift` ms; empty when unreadable.
fn local_input(text: &str, shift: i64) -> String {
    let ms = text
        .parse::<f64>()
        .unwrap_or_else(|_| js_sys::Date::parse(text));
    if ms.is_nan() {
        return String::new();
    }
    let d = js_sys::Date::new(&JsValue::from_f64(ms + shift as f64));
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The address's value for a `datetime-local` one: epoch ms, moved by `shift`. Text the
/// browser cannot read goes as it is, for the server to say what is wrong with it.
fn instant(local: &str, shift: i64) -> String {
    let ms = js_sys::Date::new(&JsValue::from_str(local)).get_time();
    if ms.is_nan() {
        local.to_owned()
    } else {
        (ms as i64 + shift).to_string()
    }
}
