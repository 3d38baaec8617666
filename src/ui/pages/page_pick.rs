//! `/platforms/:id/pages/:pick`: the Facebook Page picker. The connection stopped after
//! Facebook's answer; the person ticks the Pages to connect (a plain form post, so it works
//! without JavaScript) and each becomes an account. Nothing is connected before that.

use crate::{
    server_fns::oauth::get_page_pick,
    domain::PagePick,
    ui::components::{error_view::ErrorView, notice::Notice, oauth_panel::Avatar, timestamp::Timestamp},
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

#[component]
pub fn PagePickPage() -> impl IntoView {
    let params = use_params_map();
    let pick = resource(
        move || (params.read().get("id").unwrap_or_default(), params.read().get("pick").unwrap_or_default()),
        |(id, pick)| get_page_pick(id, pick),
    );
    view! {
        <Title text="Choose Facebook Pages"/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading your Pages…"</p> }>
            {move || Suspend::new(async move {
                match pick.await {
                    Ok(pick) => view! { <Picker pick/> }.into_any(),
                    Err(error) => {
                        let back = format!("/platforms/{}", params.read_untracked().get("id").unwrap_or_default());
                        view! {
                            <p class="breadcrumb"><A href=back>"← Back to the platform"</A></p>
                            <h1>"Choose Facebook Pages"</h1>
                            <ErrorView error/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Picker(pick: PagePick) -> impl IntoView {
    let back = format!("/platforms/{}", pick.platform_id);
    let action = format!("/oauth/{}/pages/{}", pick.platform_id, pick.id);
    let (platform, platform_back) = (pick.platform_name.clone(), pick.platform_name.clone());
    let who = pick.user_name.clone().map(|n| format!(" as {n}")).unwrap_or_default();
    let pages = pick.pages.into_iter().map(|p| {
        let (label_for, input_id) = (format!("page-{}", p.id), format!("page-{}", p.id));
        let note = match (&p.business, p.connected) {
            (Some(b), true) => format!("Through {b} · already connected: picking it renews its token"),
            (Some(b), false) => format!("Through {b}"),
            (None, true) => "Already connected: picking it renews its token".to_owned(),
            (None, false) => "You manage this Page".to_owned(),
        };
        view! {
            <li class="account">
                <label class="pick" for=label_for>
                    <input type="checkbox" id=input_id name="page" value=p.id.clone() checked=!p.connected/>
                    <Avatar url=p.avatar_url.clone() name=p.name.clone()/>
                    <span><strong class="account-name">{p.name.clone()}</strong><br/><span class="hint">{note}</span></span>
                </label>
            </li>
        }
    }).collect_view();
    view! {
        <p class="breadcrumb"><A href=back>"← Back to " {platform_back}</A></p>
        <h1>"Choose Facebook Pages"</h1>
        <Notice/>
        <p>"You signed in to Facebook" {who} ". Tick the Pages to connect to " <strong>{platform}</strong>
           "; each one becomes an account of its own with its Page token, stored encrypted."</p>
        <form method="post" action=action class="card">
            <fieldset>
                <legend>"Pages"</legend>
                <ul class="accounts">{pages}</ul>
            </fieldset>
            <div class="form-actions">
                <button type="submit" class="button primary" name="decision" value="connect">"Connect selected Pages"</button>
                <button type="submit" class="button" name="decision" value="cancel" formnovalidate=true>"Cancel"</button>
            </div>
            <p class="hint">"This choice is open until " <Timestamp at=pick.expires_at/> "; after that, press Connect again."</p>
        </form>
    }
}
