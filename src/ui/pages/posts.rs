//! `/posts`: compose a post (now, scheduled or draft) for connected accounts, grouped by
//! platform, and every post with what happened on each account — live while deliveries run. `/posts/:id/edit`
//! changes a draft or a scheduled post that has not started.

use crate::{
    server_fns::posts::{compose_choices, get_post, list_posts, CancelPost, PostChoices, CreatePost, PostsPage as PostsData, RetryDelivery, UpdatePost},
    domain::{char_count, shown, AppError, Attached, Delivery, DeliveryStatus, Post, PostState, PublishTarget},
    ui::components::{
        error_view::{ErrorView, FormAlert},
        notice::Notice,
        draft::{self, Draft},
        media_picker::MediaPicker,
        oauth_panel::Avatar,
        poll::poll_while,
        timestamp::Timestamp,
        viewer::viewer,
    },
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;
use leptos_router::{
    components::{Form, A},
    hooks::{use_params_map, use_query_map},
};

#[component]
pub fn PostsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreatePost>::new();
    let retry = ServerAction::<RetryDelivery>::new();
    let cancel = ServerAction::<CancelPost>::new();
    let tick = RwSignal::new(0u32);
    let moving = RwSignal::new(false);
    poll_while(moving, tick, 2);
    let page = resource(
        move || {
            let q = query.read();
            (q.get("status"), q.get("platform"), q.get("day"), tick.get(), create.version().get(), retry.version().get(), cancel.version().get())
        },
        |(status, platform, day, ..)| list_posts(status, platform, day),
    );
    // Loaded once: the list's refreshes never rebuild what a person is writing.
    let choices = resource(|| (), |_| compose_choices());
    view! {
        <Title text="Posts"/>
        <div class="page-header"><div>
            <h1>"Posts"</h1>
            <p class="lede">"Write once, publish to every connected account — now or at a time you choose."</p>
        </div></div>
        <Notice/>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the composer…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(choices) => view! { <NewPost choices create/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading posts…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => {
                        moving.set(data.posts.iter().flat_map(|p| &p.deliveries).any(|d| d.status.in_flight()));
                        view! { <Posts data retry cancel/> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The new-post form, with the accounts it can go to.
#[component]
fn NewPost(choices: PostChoices, create: ServerAction<CreatePost>) -> impl IntoView {
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let PostChoices { targets, connect_only } = choices;
    let skipped = (!connect_only.is_empty()).then(|| view! {
        <details class="hint connect-only">
            <summary>{format!("{} connected account(s) cannot be posted to", connect_only.len())}</summary>
            <ul>{connect_only.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
        </details>
    });
    if targets.is_empty() {
        view! {
            <section class="card" aria-labelledby="compose-heading">
                <h2 id="compose-heading">"New post"</h2>
                <p class="muted">"No account can publish yet: connect one (Sandbox, Mastodon, Bluesky, X, Facebook Pages, LinkedIn, Threads, Instagram or Reddit) on its platform page."</p>
                {skipped}
            </section>
        }
        .into_any()
    } else {
        view! {
            <section class="card" aria-labelledby="compose-heading">
                <h2 id="compose-heading">"New post"</h2>
                <FormAlert error/>
                <ActionForm action=create attr:class="form compose">
                    <Composer targets=targets.clone() errors=error text=String::new() link=String::new() chosen=Vec::new() texts=Default::default() media=Vec::new() when="now" autosave=create/>
                </ActionForm>
                {skipped}
            </section>
        }
        .into_any()
    }
}

#[component]
fn Posts(data: PostsData, retry: ServerAction<RetryDelivery>, cancel: ServerAction<CancelPost>) -> impl IntoView {
    let PostsData { posts, targets } = data;
    view! {
        <PostFilters targets/>
        {if posts.is_empty() {
            view! { <div class="card empty"><p>"No posts match. Write one above."</p></div> }.into_any()
        } else {
            view! { <div class="posts">{posts.into_iter().map(|post| view! { <PostCard post retry cancel/> }.into_any()).collect_view()}</div> }.into_any()
        }}
    }
}

/// The compose fields, shared by the new-post form and the edit page.
#[component]
fn Composer(
    targets: Vec<PublishTarget>,
    errors: Signal<Option<AppError>>,
    text: String,
    link: String,
    chosen: Vec<uuid::Uuid>,
    /// Accounts' own texts, by account.
    texts: BTreeMap<uuid::Uuid, String>,
    /// The files already on the post.
    media: Vec<Attached>,
    when: &'static str,
    /// For a new post: keep the unsent work in this browser until this action saves it.
    #[prop(optional)]
    autosave: Option<ServerAction<CreatePost>>,
) -> impl IntoView {
    let field_error = move |name: &'static str| move || errors.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(name)).map(str::to_owned));
    let text_value = RwSignal::new(text.clone());
    let link_value = RwSignal::new(link.clone());
    let selected = RwSignal::new(chosen.clone());
    let when_value = RwSignal::new(when.to_owned());
    let own_texts = RwSignal::new(texts.clone());
    let attached = RwSignal::new(media);
    // Each account's place in the form's list of own texts.
    let positions: Vec<uuid::Uuid> = targets.iter().map(|t| t.account_id).collect();
    // What each account will get: its own text if it has one, else the post's.
    let count = move |provider, account: uuid::Uuid| {
        char_count(provider, &text_for(account, own_texts, text_value), Some(link_value.get().trim()).filter(|l| !l.is_empty()))
    };
    // The browser's offset, so "9:30" means 9:30 where the person is (UTC without JS).
    let tz_offset = RwSignal::new(0i32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| tz_offset.set(js_sys::Date::new_0().get_timezone_offset() as i32));
    let counters = targets.clone();
    let previews = targets.clone();
    let pickable = targets.clone();
    let (text_ref, link_ref) = (NodeRef::<leptos::html::Textarea>::new(), NodeRef::<leptos::html::Input>::new());
    // Puts a draft into the fields (the DOM's values, then the signals that follow them).
    let fill = move |d: Draft| {
        #[cfg(feature = "hydrate")]
        if let (Some(text), Some(link)) = (text_ref.get_untracked(), link_ref.get_untracked()) {
            text.set_value(&d.text);
            link.set_value(&d.link);
        }
        text_value.set(d.text);
        link_value.set(d.link);
        selected.set(d.accounts);
        own_texts.set(d.texts);
        attached.set(d.media);
    };
    let restored = RwSignal::new(false);
    if let Some(create) = autosave {
        keep_unsent(create, (text_value, link_value, selected, own_texts, attached), restored, fill, positions.clone(), (text_ref, link_ref));
    }
    let discard = move |_| {
        fill(Draft::default());
        draft::save(&Draft::default());
        restored.set(false);
    };
    view! {
        {move || restored.get().then(|| view! {
            <p class="notice info" role="status">"Restored what you were writing (kept in this browser). "
                <button type="button" class="button" on:click=discard>"Discard"</button>
            </p>
        })}
        <div class="field" class:has-error=move || field_error("text")().is_some()>
            <label for="post-text">"Text"</label>
            <textarea id="post-text" name="form[text]" rows="4" on:input=move |ev| text_value.set(event_target_value(&ev))
                node_ref=text_ref aria-describedby="post-counters">{text}</textarea>
            <ul id="post-counters" class="counters" aria-live="polite">
                {move || counters.iter().filter(|t| selected.get().contains(&t.account_id)).map(|t| {
                    let n = count(t.provider, t.account_id);
                    let over = t.char_limit.is_some_and(|l| n > l as usize);
                    let limit = t.char_limit.map_or_else(|| "no limit".to_owned(), |l| l.to_string());
                    view! { <li class:over=over>{format!("{} ({}): {n} / {limit}", t.name, t.platform_name)}</li> }
                }).collect_view()}
            </ul>
            {move || field_error("text")().map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
        <div class="field" class:has-error=move || field_error("link")().is_some()>
            <label for="post-link">"Link (optional)"</label>
            <input id="post-link" name="form[link]" type="url" inputmode="url" value=link placeholder="https://…"
                node_ref=link_ref on:input=move |ev| link_value.set(event_target_value(&ev))/>
            {move || field_error("link")().map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
        <MediaPicker attached targets=pickable selected errors/>
        <fieldset class="field" class:has-error=move || field_error("accounts")().is_some()>
            <legend>"Accounts"</legend>
            {by_platform(targets).into_iter().map(|(platform, accounts)| view! {
                <fieldset class="account-group">
                    <legend>{platform}</legend>
                    {accounts.into_iter().map(|t| {
                        let id = t.account_id;
                        let checked = chosen.contains(&id);
                        let limit = t.char_limit.map(|l| format!(" — up to {l} characters")).unwrap_or_default();
                        view! {
                            <label class="check account-choice">
                                <input type="checkbox" name="form[accounts][]" value=id.to_string() checked=checked
                                    prop:checked=move || selected.get().contains(&id)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.update(|s| { s.retain(|x| *x != id); if on { s.push(id); } });
                                    }/>
                                <Avatar url=t.avatar_url.clone() name=t.name.clone()/>
                                {format!("{}{limit}", t.name)}
                            </label>
                            {t.missing.clone().map(|why| view! { <p class="notice warning" role="status" hidden=move || !selected.get().contains(&id)>{why}</p> })}
                            <OwnText index=positions.iter().position(|a| *a == id).unwrap_or_default() account=id name=t.name.clone()
                                initial=texts.get(&id).cloned().unwrap_or_default() own_texts errors/>
                        }
                    }).collect_view()}
                </fieldset>
            }).collect_view()}
            {move || field_error("accounts")().map(|e| view! { <p class="field-error">{e}</p> })}
        </fieldset>
        <Previews targets=previews selected text_value link_value own_texts attached/>
        <fieldset class="field" class:has-error=move || field_error("action")().is_some()>
            <legend>"When"</legend>
            {[("now", "Publish now"), ("schedule", "Schedule"), ("queue", "Add to queue"), ("draft", "Save as draft")].into_iter().map(|(value, label)| view! {
                <label class="check">
                    <input type="radio" name="form[action]" value=value checked=value == when on:change=move |_| when_value.set(value.to_owned())/>
                    {label}
                </label>
            }).collect_view()}
            <p class="hint">"Add to queue: the next free posting slot of the chosen accounts (set on each platform page)."</p>
            {move || field_error("action")().map(|e| view! { <p class="field-error">{e}</p> })}
        </fieldset>
        <div class="field" class:has-error=move || field_error("scheduled_local")().is_some()>
            <label for="post-when">"Publish at (your time zone)"</label>
            <input id="post-when" name="form[scheduled_local]" type="datetime-local"/>
            <input type="hidden" name="form[tz_offset]" prop:value=move || tz_offset.get().to_string()/>
            {move || field_error("scheduled_local")().map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
        <div class="form-actions">
            <button type="submit" class="button primary">
                {move || match when_value.get().as_str() { "schedule" => "Schedule", "queue" => "Add to queue", "draft" => "Save draft", _ => "Publish now" }}
            </button>
        </div>
    }
}

/// What `account` will get: its own text if it has one, else the post's (trimmed, as sent).
fn text_for(account: uuid::Uuid, own_texts: RwSignal<BTreeMap<uuid::Uuid, String>>, text_value: RwSignal<String>) -> String {
    let own = own_texts.with(|o| o.get(&account).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    own.unwrap_or_else(|| text_value.get().trim().to_owned())
}

/// Keeps a new post's unsent work in this browser (`draft`): restores it into an empty
/// composer once, saves every change, forgets it when `create` saves the post (and empties
/// the fields), and asks before the page is left with unsent text.
fn keep_unsent(
    create: ServerAction<CreatePost>,
    (text_value, link_value, selected, own_texts, attached): (
        RwSignal<String>,
        RwSignal<String>,
        RwSignal<Vec<uuid::Uuid>>,
        RwSignal<BTreeMap<uuid::Uuid, String>>,
        RwSignal<Vec<Attached>>,
    ),
    restored: RwSignal<bool>,
    fill: impl Fn(Draft) + Copy + Send + Sync + 'static,
    known: Vec<uuid::Uuid>,
    refs: (NodeRef<leptos::html::Textarea>, NodeRef<leptos::html::Input>),
) {
    let ready = RwSignal::new(false);
    // Once the fields exist: restore into an empty composer, then start saving.
    Effect::new(move |_| {
        if ready.get_untracked() || refs.0.get().is_none() || refs.1.get().is_none() {
            return;
        }
        if let Some(mut d) = draft::load().filter(|_| text_value.get_untracked().is_empty() && link_value.get_untracked().is_empty()) {
            d.accounts.retain(|a| known.contains(a));
            d.texts.retain(|a, _| known.contains(a));
            fill(d);
            restored.set(true);
        }
        ready.set(true);
    });
    Effect::new(move |_| {
        let d = Draft { text: text_value.get(), link: link_value.get(), accounts: selected.get(), texts: own_texts.get(), media: attached.get() };
        if ready.get() {
            draft::save(&d);
        }
    });
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            fill(Draft { accounts: selected.get_untracked(), ..Draft::default() });
            restored.set(false);
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let leaving = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if !text_value.get_untracked().trim().is_empty() {
                ev.prevent_default();
                ev.set_return_value("");
            }
        });
        on_cleanup(move || leaving.remove());
    }
}

/// How the post will look on each chosen account, as that network shows it
/// (`domain::shown`, which the publishers send), updated as the person types.
#[component]
fn Previews(
    targets: Vec<PublishTarget>,
    selected: RwSignal<Vec<uuid::Uuid>>,
    text_value: RwSignal<String>,
    link_value: RwSignal<String>,
    own_texts: RwSignal<BTreeMap<uuid::Uuid, String>>,
    attached: RwSignal<Vec<Attached>>,
) -> impl IntoView {
    let cards = move || {
        let link = link_value.get().trim().to_owned();
        let link = Some(link.as_str()).filter(|l| !l.is_empty());
        let chosen: Vec<PublishTarget> = targets.iter().filter(|t| selected.get().contains(&t.account_id)).cloned().collect();
        if chosen.is_empty() {
            return view! { <p class="muted">"Choose an account to see how the post will look there."</p> }.into_any();
        }
        chosen
            .into_iter()
            .map(|t| {
                let s = shown(t.provider, &text_for(t.account_id, own_texts, text_value), link);
                let host = s.card.as_deref().and_then(|u| url::Url::parse(u).ok()).and_then(|u| u.host_str().map(str::to_owned));
                view! {
                    <article class=format!("preview preview-{}", t.provider.as_str()) aria-label=format!("Preview for {}", t.name)>
                        <header class="preview-head">
                            <Avatar url=t.avatar_url.clone() name=t.name.clone()/>
                            <strong>{t.name.clone()}</strong>
                            <span class="muted">{t.platform_name.clone()}</span>
                        </header>
                        {s.title.map(|title| view! { <p class="preview-title">{title}</p> })}
                        {(!s.body.is_empty()).then(|| view! { <p class="preview-body">{linked(&s.body)}</p> })}
                        <MediaGrid media=attached.get()/>
                        {s.card.map(|url| view! {
                            <p class="link-card"><span class="link-card-host">{host.unwrap_or_default()}</span><span class="mono">{url}</span></p>
                        })}
                    </article>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="previews" aria-labelledby="previews-heading" aria-live="polite">
            <h3 id="previews-heading">"Preview"</h3>
            {cards}
        </section>
    }
}

/// A post's images (or its video) as the networks lay them out: a grid of up to four.
#[component]
fn MediaGrid(media: Vec<Attached>) -> impl IntoView {
    let class = format!("media-grid media-{}", media.len().min(4));
    (!media.is_empty()).then(|| view! {
        <div class=class>
            {media.into_iter().map(|a| {
                let src = a.media.content_path();
                if a.media.media_type.is_video() {
                    view! { <video src=src controls preload="metadata" aria-label=a.alt></video> }.into_any()
                } else {
                    view! { <img src=src alt=a.alt loading="lazy"/> }.into_any()
                }
            }).collect_view()}
        </div>
    })
}

/// Text with its http(s) links as links, spaces and line breaks kept.
fn linked(text: &str) -> impl IntoView {
    text.split_inclusive(char::is_whitespace)
        .map(|piece| {
            let word = piece.trim_end();
            let space = piece[word.len()..].to_owned();
            let is_link = (word.starts_with("https://") || word.starts_with("http://")) && url::Url::parse(word).is_ok();
            match is_link {
                true => view! { <a href=word.to_owned() target="_blank" rel="noopener noreferrer">{word.to_owned()}</a>{space} }.into_any(),
                false => view! { {piece.to_owned()} }.into_any(),
            }
        })
        .collect_view()
}

/// An account's own text, instead of the post's ("text per network"), folded away until
/// wanted; it opens by itself when the account has one.
#[component]
fn OwnText(index: usize, account: uuid::Uuid, name: String, initial: String, own_texts: RwSignal<BTreeMap<uuid::Uuid, String>>, errors: Signal<Option<AppError>>) -> impl IntoView {
    let field = format!("texts.{account}");
    let error = move || errors.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(&field)).map(str::to_owned));
    let id = format!("own-text-{account}");
    let open = !initial.is_empty();
    view! {
        <details class="own-text" open=open>
            <summary>{format!("Own text for {name}")}</summary>
            <label for=id.clone() class="sr-only">{format!("Own text for {name}")}</label>
            <input type="hidden" name=format!("form[texts][{index}][account]") value=account.to_string()/>
            // `prop:value` follows the signal, so a restored draft or a sent post shows here.
            <textarea id=id name=format!("form[texts][{index}][text]") rows="3" placeholder="Leave empty to post the text above"
                prop:value=move || own_texts.with(|t| t.get(&account).cloned().unwrap_or_default())
                on:input=move |ev| own_texts.update(|t| { t.insert(account, event_target_value(&ev)); })>{initial}</textarea>
            {move || error().map(|e| view! { <p class="field-error">{e}</p> })}
        </details>
    }
}

/// The targets grouped by platform, in the order they came (platform name, then account).
fn by_platform(targets: Vec<PublishTarget>) -> Vec<(String, Vec<PublishTarget>)> {
    let mut groups: Vec<(String, Vec<PublishTarget>)> = Vec::new();
    for t in targets {
        match groups.last_mut() {
            Some((_, group)) if group.first().is_some_and(|g| g.platform_id == t.platform_id) => group.push(t),
            _ => groups.push((t.platform_name.clone(), vec![t])),
        }
    }
    groups
}

/// The posts' filters, in the URL: status, platform, and the day (the list) or the
/// calendar's month or week (`period`).
#[component]
pub fn PostFilters(targets: Vec<PublishTarget>, #[prop(optional)] period: Option<crate::domain::calendar::Period>) -> impl IntoView {
    let query = use_query_map();
    let current = |k: &str| query.with_untracked(|q| q.get(k)).unwrap_or_default();
    let (status, platform, day) = (current("status"), current("platform"), current("day"));
    view! {
        <Form method="GET" action="" attr:class="filters" attr:aria-label="Filter posts">
            <label>"Status "
                <select name="status">
                    <option value="" selected=status.is_empty()>"Any"</option>
                    {DeliveryStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=s.as_str() == status>{s.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Platform "
                <select name="platform">
                    <option value="" selected=platform.is_empty()>"Any"</option>
                    {by_platform(targets).into_iter().map(|(name, accounts)| {
                        let v = accounts.first().map(|a| a.platform_id.to_string()).unwrap_or_default();
                        let s = v == platform;
                        view! { <option value=v selected=s>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
            {match period {
                Some(crate::domain::calendar::Period::Month(first)) => view! { <label>"Month " <input type="month" name="month" value=first.format("%Y-%m").to_string()/></label> }.into_any(),
                Some(crate::domain::calendar::Period::Week(monday)) => view! { <label>"Week of " <input type="date" name="week" value=monday.format("%Y-%m-%d").to_string()/></label> }.into_any(),
                None => view! { <label>"Day " <input type="date" name="day" value=day/></label> }.into_any(),
            }}
            <button type="submit" class="button">"Filter"</button>
        </Form>
    }
}

#[component]
fn PostCard(post: Post, retry: ServerAction<RetryDelivery>, cancel: ServerAction<CancelPost>) -> impl IntoView {
    let id = post.id.to_string();
    let state = match post.state {
        PostState::Draft => "Draft".to_owned(),
        PostState::Scheduled => "Scheduled".to_owned(),
        PostState::Sent => "Sent".to_owned(),
        PostState::Cancelled => "Cancelled".to_owned(),
    };
    // Only the author or an admin may change a post (the server checks it too).
    let mine = viewer().0.as_ref().is_some_and(|u| post.changeable_by(u));
    let cancel_error = Signal::derive(move || cancel.value().get().and_then(Result::err));
    let retry_error = Signal::derive(move || retry.value().get().and_then(Result::err));
    view! {
        <article class="card post" aria-label=format!("Post: {}", post.text.chars().take(40).collect::<String>())>
            <header class="post-header">
                <span class="badge">{state}</span>
                {post.scheduled_at.map(|at| view! { <span>" for " <Timestamp at/></span> })}
                <span class="muted">" · by " {post.created_by.clone()} " · " <Timestamp at=post.created_at/></span>
            </header>
            <p class="post-text">{post.text.clone()}</p>
            <MediaGrid media=post.media.clone()/>
            {post.link.clone().map(|l| view! { <p class="mono">{l}</p> })}
            {(!post.deliveries.is_empty()).then(|| view! {
                <table class="deliveries">
                    <thead><tr><th scope="col">"Platform"</th><th scope="col">"Delivery"</th><th scope="col">"Details"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{post.deliveries.iter().cloned().map(|d| view! { <DeliveryRow d retry mine/> }).collect_view()}</tbody>
                </table>
            })}
            <FormAlert error=retry_error/>
            {(mine && post.editable()).then(|| view! {
                <FormAlert error=cancel_error/>
                <div class="form-actions">
                    <A href=format!("/posts/{id}/edit") attr:class="button">"Edit"</A>
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id.clone()/>
                        <button type="submit" class="button">"Cancel post"</button>
                    </ActionForm>
                </div>
            })}
        </article>
    }
    .into_any()
}

#[component]
fn DeliveryRow(d: Delivery, retry: ServerAction<RetryDelivery>, mine: bool) -> impl IntoView {
    let (label, class) = match d.status {
        DeliveryStatus::Waiting => ("waiting", "status-pending"),
        DeliveryStatus::Queued => ("queued", "status-pending"),
        DeliveryStatus::Publishing => ("publishing", "status-pending"),
        DeliveryStatus::Published => ("published", "status-active"),
        DeliveryStatus::Failed => ("failed", "status-error"),
        DeliveryStatus::Unconfirmed => ("unconfirmed", "status-error"),
        DeliveryStatus::Cancelled => ("cancelled", "status-inactive"),
    };
    let details = match (d.status, d.provider_url.clone(), d.error.clone()) {
        (DeliveryStatus::Published, Some(url), _) => view! { <a href=url target="_blank" rel="noopener noreferrer">"View post"</a> }.into_any(),
        (DeliveryStatus::Published, None, _) => view! { <span class="mono">{d.provider_post_id.clone().unwrap_or_default()}</span> }.into_any(),
        // Not tried yet: when it goes, and why then when a posting limit moved it.
        (DeliveryStatus::Queued, _, note) if d.attempts == 0 => view! {
            <span>"due " <Timestamp at=d.due_at/></span>
            {note.map(|note| view! { <p class="muted">{note}</p> })}
        }
        .into_any(),
        (_, _, Some(error)) => view! { <span class="delivery-error">{error}</span> }.into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let can_retry = mine && matches!(d.status, DeliveryStatus::Failed | DeliveryStatus::Unconfirmed);
    let unconfirmed = d.status == DeliveryStatus::Unconfirmed;
    let name = match &d.account_name {
        Some(account) => format!("{account} on {}", d.platform_name),
        None if d.account_id.is_none() => format!("{} (account disconnected)", d.platform_name),
        None => d.platform_name.clone(),
    };
    view! {
        <tr>
            <td>{name.clone()}{d.text.clone().map(|own| view! { <p class="own-text muted">"Own text: " {own}</p> })}</td>
            <td><span class=format!("badge {class}")>{label}</span></td>
            <td>{details}</td>
            <td>{can_retry.then(|| view! {
                <ActionForm action=retry>
                    <input type="hidden" name="id" value=d.id.to_string()/>
                    // It may already be on the platform: the person says they checked.
                    {unconfirmed.then(|| view! {
                        <label class="checkbox">
                            <input type="checkbox" name="confirm" value="true" required/>
                            " I checked " {name.clone()} ": it is not there"
                        </label>
                    })}
                    <button type="submit" class="button" aria-label=format!("Retry {name}")>"Retry"</button>
                </ActionForm>
            })}</td>
        </tr>
    }
    .into_any()
}

#[component]
pub fn EditPostPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdatePost>::new();
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let data = resource(move || params.read().get("id").unwrap_or_default(), get_post);
    // Saved: back to the list.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(_))) {
            leptos_router::hooks::use_navigate()("/posts?notice=post_saved", Default::default());
        }
    });
    view! {
        <Title text="Edit post"/>
        <p class="breadcrumb"><A href="/posts">"← All posts"</A></p>
        <h1>"Edit post"</h1>
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading post…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((post, _)) if !post.editable() => view! {
                        <p class="notice error">"This post has started publishing or was cancelled: it can no longer change."</p>
                    }.into_any(),
                    Ok((post, targets)) => {
                        let chosen = post.deliveries.iter().filter_map(|d| d.account_id).collect();
                        let texts = post.deliveries.iter().filter_map(|d| Some((d.account_id?, d.text.clone()?))).collect();
                        let when = if post.state == PostState::Scheduled { "schedule" } else { "draft" };
                        view! {
                            <ActionForm action=update attr:class="card form compose">
                                <input type="hidden" name="id" value=post.id.to_string()/>
                                <FormAlert error/>
                                <Composer targets errors=error text=post.text.clone() link=post.link.clone().unwrap_or_default() chosen texts media=post.media.clone() when/>
                            </ActionForm>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
