//! The composer's images and video: chosen with a file picker or dropped on the zone,
//! uploaded at once (`POST /api/media`) with a progress bar each, shown as thumbnails with
//! an alt text each, reordered and removed with buttons (so the keyboard can do it all).
//! Each chosen account's limits are checked before a file goes up and as the list changes;
//! the server checks them again when the post is saved.

use crate::domain::{file_problem, media_problem, AppError, Attached, Media, MediaType, PublishTarget};
use leptos::prelude::*;
use uuid::Uuid;

/// A file on its way up.
#[derive(Clone, Debug, PartialEq)]
struct Uploading {
    key: u32,
    name: String,
    sent: f64,
    total: f64,
}

const ACCEPT: &str = "image/jpeg,image/png,image/gif,image/webp,video/mp4";

#[component]
pub fn MediaPicker(attached: RwSignal<Vec<Attached>>, targets: Vec<PublishTarget>, selected: RwSignal<Vec<Uuid>>, errors: Signal<Option<AppError>>) -> impl IntoView {
    let uploading = RwSignal::new(Vec::<Uploading>::new());
    let refused = RwSignal::new(Vec::<String>::new());
    let next_key = StoredValue::new(0u32);
    let targets = StoredValue::new(targets);
    let chosen = move || targets.with_value(|t| t.iter().filter(|t| selected.get().contains(&t.account_id)).cloned().collect::<Vec<_>>());
    // What the chosen accounts' networks would refuse, once per network.
    let over_limits = move || {
        let files: Vec<Media> = attached.with(|a| a.iter().map(|a| a.media.clone()).collect());
        let mut problems: Vec<String> = chosen().iter().filter_map(|t| media_problem(t.provider.label(), &t.media, &files)).collect();
        problems.dedup();
        problems
    };
    // Providers that fetch files by URL, when PUBLIC_URL is out of their reach.
    let unreachable = move || {
        let mut warnings: Vec<String> = if attached.with(Vec::is_empty) { Vec::new() } else { chosen().into_iter().filter_map(|t| t.unreachable).collect() };
        warnings.dedup();
        warnings
    };
    let server_error = move || errors.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get("media")).map(str::to_owned));
    // Checks each file against the chosen accounts by the type and size the browser reports,
    // then sends the ones that pass.
    let take = move |files: Vec<(String, String, f64, FileHandle)>| {
        refused.set(Vec::new());
        for (name, kind, bytes, file) in files {
            let guess = kind.parse::<MediaType>().ok().map(|media_type| Media { id: Uuid::nil(), media_type, bytes: bytes as u64, width: None, height: None, duration_ms: None });
            let problem = match &guess {
                None => Some("Keyport takes JPEG, PNG, GIF and WebP images and MP4 video".to_owned()),
                Some(m) => chosen().iter().find_map(|t| file_problem(t.provider.label(), &t.media, m)),
            };
            if let Some(problem) = problem {
                refused.update(|r| r.push(format!("{name}: {problem}")));
                continue;
            }
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            uploading.update(|u| u.push(Uploading { key, name: name.clone(), sent: 0.0, total: bytes }));
            send(file, name, key, uploading, attached, refused);
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: web_sys::HtmlInputElement = ev.target().expect("an input").unchecked_into();
            take(files_of(input.files()));
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, take);
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        take(files_of(ev.data_transfer().and_then(|d| d.files())));
    };
    let swap = move |i: usize, j: usize| attached.update(|a| if i < a.len() && j < a.len() { a.swap(i, j) });
    view! {
        <fieldset class="field media-picker" class:has-error=move || server_error().is_some() || !over_limits().is_empty()>
            <legend>"Images and video"</legend>
            <div class="drop-zone" class:dragging=move || dragging.get()
                on:dragover=move |ev| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <label for="media-files">"Add images or a video"</label>
                <input id="media-files" type="file" multiple accept=ACCEPT on:change=on_pick aria-describedby="media-hint"/>
                <p id="media-hint" class="muted">"Or drop files here. JPEG, PNG, GIF, WebP or MP4; each network's limits are checked as you add them."</p>
            </div>
            <ul class="uploads" aria-live="polite">
                {move || uploading.get().into_iter().map(|u| {
                    let percent = if u.total > 0.0 { (u.sent / u.total * 100.0).min(100.0) } else { 0.0 };
                    view! {
                        <li>
                            <label>{format!("Uploading {} ", u.name)}
                                <progress max="100" value=format!("{percent:.0}")>{format!("{percent:.0}%")}</progress>
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || {
                let problems: Vec<String> = refused.get().into_iter().chain(over_limits()).chain(server_error()).collect();
                (!problems.is_empty()).then(|| view! {
                    <ul class="field-error" role="alert">{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                })
            }}
            {move || {
                let warnings = unreachable();
                (!warnings.is_empty()).then(|| view! {
                    <ul class="notice warning" role="status">{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                })
            }}
            <ol class="media-list">
                {move || {
                    let files = attached.get();
                    let n = files.len();
                    files.into_iter().enumerate().map(|(i, a)| view! {
                        <MediaItem index=i count=n attached=a.clone() errors
                            on_alt=move |alt: String| attached.update(|list| if let Some(item) = list.get_mut(i) { item.alt = alt })
                            on_up=move || swap(i.wrapping_sub(1), i)
                            on_down=move || swap(i, i + 1)
                            on_remove=move || attached.update(|list| { if i < list.len() { list.remove(i); } })/>
                    }).collect_view()
                }}
            </ol>
        </fieldset>
    }
}

/// One attached file: its thumbnail, its alt text and its buttons, with the hidden fields
/// that send it with the form (`form[media][i][id]`, `…[alt]`).
#[component]
fn MediaItem(
    index: usize,
    count: usize,
    attached: Attached,
    errors: Signal<Option<AppError>>,
    on_alt: impl Fn(String) + Send + Sync + 'static,
    on_up: impl Fn() + Send + Sync + 'static,
    on_down: impl Fn() + Send + Sync + 'static,
    on_remove: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let n = index + 1;
    let (m, alt) = (attached.media, attached.alt);
    let (img_alt, typed) = (alt.clone(), alt.clone());
    let src = m.content_path();
    let alt_field = format!("media.{index}.alt");
    let alt_error = move || errors.with(|e| e.as_ref().and_then(|e| e.fields()).and_then(|f| f.get(&alt_field)).map(str::to_owned));
    let alt_id = format!("media-alt-{index}");
    let facts = match (m.width, m.height) {
        (Some(w), Some(h)) => format!("{}, {w}×{h}, {}", m.media_type.label(), crate::domain::size(m.bytes)),
        _ => format!("{}, {}", m.media_type.label(), crate::domain::size(m.bytes)),
    };
    view! {
        <li class="media-item">
            {if m.media_type.is_video() {
                view! { <video src=src class="thumb" muted preload="metadata" aria-label=format!("File {n}")></video> }.into_any()
            } else {
                view! { <img src=src class="thumb" alt=img_alt/> }.into_any()
            }}
            <div class="media-fields">
                <input type="hidden" name=format!("form[media][{index}][id]") value=m.id.to_string()/>
                <label for=alt_id.clone()>{format!("Alt text for file {n}")}</label>
                // `prop:value` too: a reorder redraws the list into the same elements, whose
                // typed-in values would otherwise stay where they were.
                <textarea id=alt_id name=format!("form[media][{index}][alt]") rows="2" maxlength=crate::domain::ALT_MAX prop:value=typed
                    placeholder="Describe it for people who cannot see it" on:input=move |ev| on_alt(event_target_value(&ev))>{alt}</textarea>
                {move || alt_error().map(|e| view! { <p class="field-error">{e}</p> })}
                <p class="muted">{facts}</p>
                <div class="media-actions">
                    <button type="button" class="button" disabled=index == 0 aria-label=format!("Move file {n} earlier") on:click=move |_| on_up()>"↑"</button>
                    <button type="button" class="button" disabled=n == count aria-label=format!("Move file {n} later") on:click=move |_| on_down()>"↓"</button>
                    <button type="button" class="button danger" aria-label=format!("Remove file {n}") on:click=move |_| on_remove()>"Remove"</button>
                </div>
            </div>
        </li>
    }
}

#[cfg(feature = "hydrate")]
type FileHandle = web_sys::File;
#[cfg(not(feature = "hydrate"))]
type FileHandle = ();

/// The chosen files with their names, the type and size the browser reports.
#[cfg(feature = "hydrate")]
fn files_of(list: Option<web_sys::FileList>) -> Vec<(String, String, f64, FileHandle)> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).map(|f| (f.name(), f.type_(), f.size(), f)).collect()
}

/// Uploads one file with XMLHttpRequest (fetch reports no upload progress): its progress
/// moves the bar, and its answer attaches the stored file or says why not.
#[cfg(feature = "hydrate")]
fn send(file: FileHandle, name: String, key: u32, uploading: RwSignal<Vec<Uploading>>, attached: RwSignal<Vec<Attached>>, refused: RwSignal<Vec<String>>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let fail = move |why: String| {
        uploading.update(|u| u.retain(|x| x.key != key));
        refused.update(|r| r.push(why));
    };
    let (Ok(xhr), Ok(form)) = (web_sys::XmlHttpRequest::new(), web_sys::FormData::new()) else {
        return fail(format!("{name}: this browser cannot upload files"));
    };
    if form.append_with_blob_and_filename("file", &file, &name).is_err() || xhr.open("POST", "/api/media").is_err() {
        return fail(format!("{name}: this browser cannot upload files"));
    }
    let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        uploading.update(|u| u.iter_mut().filter(|x| x.key == key).for_each(|x| x.sent = ev.loaded()));
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let (answer, named) = (xhr.clone(), name.clone());
    // Called once; it owns the progress handler, so both are freed when the upload ends.
    let done = Closure::once_into_js(move || {
        drop(progress);
        let status = answer.status().unwrap_or(0);
        let json: serde_json::Value = answer.response_text().ok().flatten().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        if status == 201 {
            if let Ok(media) = serde_json::from_value::<Media>(json["media"].clone()) {
                uploading.update(|u| u.retain(|x| x.key != key));
                attached.update(|a| a.push(Attached { media, alt: String::new() }));
                return;
            }
        }
        let said = json.pointer("/error/fields/0/message").or_else(|| json.pointer("/error/message")).and_then(|m| m.as_str()).map(str::to_owned);
        let why = said.unwrap_or_else(|| if status == 0 { "the connection broke off: try again".into() } else { format!("the server answered {status}: try again") });
        fail(format!("{named}: {why}"));
    });
    xhr.set_onloadend(Some(done.unchecked_ref()));
    if xhr.send_with_opt_form_data(Some(&form)).is_err() {
        fail(format!("{name}: the upload could not start"));
    }
}

#[cfg(not(feature = "hydrate"))]
fn send(_: FileHandle, _: String, _: u32, _: RwSignal<Vec<Uploading>>, _: RwSignal<Vec<Attached>>, _: RwSignal<Vec<String>>) {}
