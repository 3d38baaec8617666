//! `/login` and `/setup`. Plain HTML form posts (no client-side action), so the page
//! reloads signed in or out and every part of the app sees the new session.

use crate::{
    server_fns::auth::{SetUp, SignIn},
    ui::components::{error_view::FormAlert, notice::Notice},
};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn field_error(error: Signal<Option<crate::domain::AppError>>, field: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || error.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(field)).map(str::to_owned))
}

#[component]
fn Field(label: &'static str, name: &'static str, kind: &'static str, autocomplete: &'static str, error: Signal<Option<crate::domain::AppError>>) -> impl IntoView {
    let message = field_error(error, name);
    let id = format!("auth-{name}");
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id.clone() name=name type=kind autocomplete=autocomplete required
                aria-invalid=move || message().map(|_| "true") aria-describedby=move || message().map(|_| format!("auth-{name}-error"))/>
            {move || message().map(|m| view! { <p class="field-error" id=format!("auth-{name}-error")>{m}</p> })}
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    // Reads an error the server sent back in the URL after a failed sign-in.
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let other_error = Signal::derive(move || error.get().filter(|e| e.fields().is_none()));
    let next = use_query_map().with_untracked(|q| q.get("next")).unwrap_or_default();
    view! {
        <Title text="Sign in"/>
        <div class="auth-card card">
            <h1>"Sign in to Keyport"</h1>
            <Notice/>
            <FormAlert error=other_error/>
            <form method="post" action={<SignIn as ServerFn>::PATH}>
                <input type="hidden" name="next" value=next/>
                <Field label="Email" name="email" kind="email" autocomplete="username" error/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error/>
                <button type="submit" class="button primary">"Sign in"</button>
            </form>
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<SetUp>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Set up Keyport"/>
        <div class="auth-card card">
            <h1>"Welcome to Keyport"</h1>
            <p class="lede">"Create the first admin account. This form is only here until someone has used it."</p>
            <FormAlert error/>
            <form method="post" action={<SetUp as ServerFn>::PATH}>
                <Field label="Email" name="email" kind="email" autocomplete="username" error/>
                <Field label="Password (12 characters or more)" name="password" kind="password" autocomplete="new-password" error/>
                <Field label="Password again" name="confirm" kind="password" autocomplete="new-password" error/>
                <button type="submit" class="button primary">"Create admin and sign in"</button>
            </form>
        </div>
    }
}
