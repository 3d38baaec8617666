//! Labelled form inputs that show their field's error next to them.

use crate::domain::AppError;
use leptos::prelude::*;

fn field_error(errors: Signal<Option<AppError>>, field: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || errors.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(field)).map(str::to_owned))
}

/// A text input (or textarea) named `form[{field}]`.
#[component]
pub fn TextField(
    label: &'static str,
    field: &'static str,
    #[prop(into)] value: String,
    #[prop(into)] errors: Signal<Option<AppError>>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] monospace: bool,
    #[prop(default = "text")] inputmode: &'static str,
    #[prop(optional, into)] placeholder: Option<String>,
) -> impl IntoView {
    let id = format!("field-{field}");
    let name = format!("form[{field}]");
    let error = field_error(errors, field);
    let described = {
        let id = id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(format!("{id}-hint"));
            }
            if error().is_some() {
                ids.push(format!("{id}-error"));
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let invalid = move || error().is_some().then_some("true");
    let class = if monospace { "mono" } else { "" };
    let input = if multiline {
        view! {
            <textarea id=id.clone() name=name class=class rows="4" aria-invalid=invalid aria-describedby=described.clone()>{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name type="text" value=value class=class inputmode=inputmode autocomplete="off" placeholder=placeholder
                aria-required=required.then_some("true") aria-invalid=invalid aria-describedby=described.clone()/>
        }
        .into_any()
    };
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}{required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}</label>
            {input}
            {hint.map(|h| view! { <p class="hint" id=format!("{id}-hint")>{h}</p> })}
            {move || error().map(|e| view! { <p class="field-error" id=format!("{}-error", id)>{e}</p> })}
        </div>
    }
}

/// A select named `form[{field}]` over `(value, label)` choices.
#[component]
pub fn SelectField(
    label: &'static str,
    field: &'static str,
    choices: Vec<(&'static str, &'static str)>,
    #[prop(into)] selected: String,
    #[prop(into)] errors: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("field-{field}");
    let error = field_error(errors, field);
    view! {
        <div class="field" class:has-error=move || error().is_some()>
            <label for=id.clone()>{label}</label>
            <select id=id.clone() name=format!("form[{field}]") aria-invalid=move || error().is_some().then_some("true")
                aria-describedby=move || error().is_some().then(|| format!("field-{field}-error"))>
                {choices
                    .into_iter()
                    .map(|(value, text)| view! { <option value=value selected=value == selected>{text}</option> })
                    .collect_view()}
            </select>
            {move || error().map(|e| view! { <p class="field-error" id=format!("{}-error", id)>{e}</p> })}
        </div>
    }
}
