//! `/users` (admins): who may sign in, with which role.

use crate::{
    server_fns::users::{list_users, CreateUser, ResetPassword, UpdateUser},
    domain::{Role, User, UsersPage},
    ui::components::{
        error_view::{ErrorView, FormAlert},
        notice::Notice,
        timestamp::Timestamp,
        viewer::AdminOnly,
    },
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

#[component]
pub fn UsersPage() -> impl IntoView {
    view! { <AdminOnly><Users/></AdminOnly> }
}

#[component]
fn Users() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let users = resource(
        move || (query.with(|q| q.get("cursor")), create.version().get(), update.version().get(), reset.version().get()),
        |(cursor, ..)| list_users(cursor),
    );
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let update_error = Signal::derive(move || update.value().get().and_then(Result::err).or_else(|| reset.value().get().and_then(Result::err)));
    view! {
        <Title text="Users"/>
        <div class="page-header"><div><h1>"Users"</h1><p class="lede">"Admins manage everything; marketers connect accounts and publish."</p></div></div>
        <Notice/>
        // Row forms have no per-field messages: say the whole error (e.g. the last admin).
        {move || update_error.get().map(|e| view! { <p class="alert error" role="alert">{e.to_string()}</p> })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(UsersPage { users, next, prev }) => view! {
                        <UserTable users update reset/>
                        <nav class="pager" aria-label="User pages">
                            {prev.map(|c| view! { <A href=format!("/users?cursor={c}") attr:rel="prev">"← Previous"</A> })}
                            {next.map(|c| view! { <A href=format!("/users?cursor={c}") attr:rel="next">"Next →"</A> })}
                        </nav>
                    }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"Add a user"</h2>
            <FormAlert error=create_error/>
            <ActionForm action=create attr:class="inline-form">
                <div class="field"><label for="new-email">"Email"</label><input id="new-email" name="email" type="email" autocomplete="off" required/></div>
                <div class="field"><label for="new-password">"First password"</label><input id="new-password" name="password" type="password" autocomplete="new-password" required/></div>
                <div class="field"><label for="new-role">"Role"</label><RoleSelect id="new-role" selected=Role::Marketer/></div>
                <div class="form-actions"><button type="submit" class="button primary">"Add user"</button></div>
            </ActionForm>
            {move || create_error.get().and_then(|e| e.fields().map(|f| f.to_string())).map(|m| view! { <p class="field-error">{m}</p> })}
        </section>
    }
}

#[component]
fn RoleSelect(id: &'static str, selected: Role) -> impl IntoView {
    view! {
        <select id=id name="role">
            {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == selected>{r.label()}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn UserTable(users: Vec<User>, update: ServerAction<UpdateUser>, reset: ServerAction<ResetPassword>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data-table">
                <caption class="sr-only">"Users"</caption>
                <thead><tr><th scope="col">"Email"</th><th scope="col">"Role and access"</th><th scope="col" class="hide-narrow">"Added"</th><th scope="col">"Password"</th></tr></thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let (id, reset_id) = (u.id.to_string(), u.id.to_string());
                        let role_id = format!("role-{}", u.id.simple());
                        let pw_id = format!("pw-{}", u.id.simple());
                        let role_label = format!("Role of {}", u.email);
                        let save_label = format!("Save {}", u.email);
                        let pw_label = format!("New password for {}", u.email);
                        let role = u.role;
                        let disabled = u.disabled;
                        view! {
                            <tr>
                                <th scope="row">{u.email}{disabled.then(|| view! { " " <span class="badge status status-inactive">"Disabled"</span> })}</th>
                                <td>
                                    <ActionForm action=update attr:class="row-form">
                                        <input type="hidden" name="id" value=id/>
                                        <label class="sr-only" for=role_id.clone()>{role_label}</label>
                                        <select id=role_id name="role">
                                            {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == role>{r.label()}</option> }).collect_view()}
                                        </select>
                                        <label class="checkbox"><input type="checkbox" name="disabled" value="on" checked=disabled/>" Disabled"</label>
                                        <button type="submit" class="button">{save_label}</button>
                                    </ActionForm>
                                </td>
                                <td class="hide-narrow"><Timestamp at=u.created_at/></td>
                                <td>
                                    <details>
                                        <summary>"Reset…"</summary>
                                        <ActionForm action=reset attr:class="row-form">
                                            <input type="hidden" name="id" value=reset_id/>
                                            <label for=pw_id.clone()>{pw_label}</label>
                                            <input id=pw_id name="password" type="password" autocomplete="new-password"/>
                                            <button type="submit" class="button">"Set password"</button>
                                        </ActionForm>
                                    </details>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
