//! `/import` (admins): platforms exported from the older Medusa-style store, a file chosen
//! (or JSON pasted) and sent to `POST /api/imports` as it is read from disk, with one
//! progress bar for the upload and then for the batches written, and a report of what came
//! from plaintext, from ciphertext, and what failed and why.

use crate::{
    domain::{AppError, ImportReport},
    ui::{components::{error_view::FormAlert, viewer::AdminOnly}, format::thousands},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Where an import is (only the browser moves it on).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Stage {
    Idle,
    /// Bytes of the file sent, of all.
    Uploading(f64, f64),
    /// Entries read, of all in the file.
    Importing(u64, u64),
    Done(ImportReport),
    Failed(AppError),
}

impl Stage {
    fn busy(&self) -> bool {
        matches!(self, Stage::Uploading(..) | Stage::Importing(..))
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    view! { <AdminOnly><Import/></AdminOnly> }
}

#[component]
fn Import() -> impl IntoView {
    let stage = RwSignal::new(Stage::Idle);
    // A form sent before the page is interactive would go nowhere (or, as a GET, put the
    // pasted tokens in a URL): the button waits for the script.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let file = NodeRef::<leptos::html::Input>::new();
    let pasted = NodeRef::<leptos::html::Textarea>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !stage.with_untracked(Stage::busy) {
            start(file, pasted, stage);
        }
    };
    // The pasted export holds tokens: clear it from the page once imported.
    Effect::new(move |_| {
        if matches!(stage.get(), Stage::Done(_)) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    let error = Signal::derive(move || match stage.get() {
        Stage::Failed(e) => Some(e),
        _ => None,
    });
    let file_error = move || error.with(|e| e.as_ref().and_then(AppError::fields).and_then(|f| f.get("export")).map(str::to_owned));
    view! {
        <Title text="Import"/>
        <div class="page-header"><div>
            <h1>"Import from the old store"</h1>
            <p class="lede">"A JSON array of platforms exported from the Medusa plugin. Tokens are encrypted with Keyport's key as they arrive; nothing is stored in plaintext."</p>
        </div></div>
        <form class="card form" autocomplete="off" node_ref=form on:submit=on_submit>
            <FormAlert error/>
            <div class="field">
                <label for="import-file">"Exported file"</label>
                <input id="import-file" type="file" accept="application/json,.json" node_ref=file aria-describedby="import-hint import-error" aria-invalid=move || file_error().is_some().then_some("true")/>
                {move || file_error().map(|e| view! { <p class="field-error" id="import-error">{e}</p> })}
            </div>
            <div class="field">
                <label for="import-export">"Or paste the exported JSON"</label>
                <textarea id="import-export" rows="6" class="mono" spellcheck="false" node_ref=pasted aria-describedby="import-hint"></textarea>
                <p class="hint" id="import-hint">
                    "Encrypted fields ({encrypted, iv, authTag, keyVersion}) need the old keys as LEGACY_ENCRYPTION_KEY_V<n>. "
                    "Up to 64 MiB here; any size with " <code>"keyport import FILE"</code> ". "
                    "Names already in Keyport are skipped, so a file can be imported again after a failure."
                </p>
            </div>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || !ready.get() || stage.with(Stage::busy)>
                    {move || if stage.with(Stage::busy) { "Importing…" } else { "Import" }}
                </button>
            </div>
            <Progress stage/>
        </form>
        {move || match stage.get() {
            Stage::Done(report) => Some(view! { <Report report/> }),
            _ => None,
        }}
    }
}

/// The upload's bar, then the import's, with what it is doing in words.
#[component]
fn Progress(stage: RwSignal<Stage>) -> impl IntoView {
    let megabytes = |bytes: f64| format!("{:.1}", bytes / 1_048_576.0);
    move || {
        let (label, value, max) = match stage.get() {
            Stage::Uploading(sent, total) => (format!("Uploading: {} of {} MB", megabytes(sent), megabytes(total)), sent, total),
            Stage::Importing(done, total) => (format!("Importing: {} of {} entries", thousands(done), thousands(total)), done as f64, total as f64),
            _ => return None,
        };
        Some(view! {
            <div class="import-progress" role="status">
                <label for="import-progress">{label}</label>
                <progress id="import-progress" max=max.max(1.0) value=value></progress>
            </div>
        })
    }
}

#[component]
fn Report(report: ImportReport) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="report-heading">
            <h2 id="report-heading">"Import report"</h2>
            <p role="status">{report.summary()}</p>
            {(report.from_plaintext > 0).then(|| view! {
                <p class="notice error">"Secrets that arrived in plaintext are flagged: re-authenticate those platforms (see " <A href="/attention">"Needs attention"</A> ")."</p>
            })}
            {(!report.problems.is_empty()).then(|| view! {
                <table>
                    <thead><tr><th scope="col">"Platform"</th><th scope="col">"Field"</th><th scope="col">"Problem"</th></tr></thead>
                    <tbody>
                        {report.problems.iter().map(|p| view! {
                            <tr><td>{p.platform.clone()}</td><td class="mono">{p.field.clone().unwrap_or_default()}</td><td>{p.reason.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// Sends the chosen file (read from disk as it goes, never into the page) or the pasted
/// text with XMLHttpRequest, which reports the upload's progress (fetch does not), and
/// reads the answer's lines as they arrive: progress, then the report.
#[cfg(feature = "hydrate")]
fn start(file: NodeRef<leptos::html::Input>, pasted: NodeRef<leptos::html::Textarea>, stage: RwSignal<Stage>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let chosen = file.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
    let text = pasted.get_untracked().map(|area| area.value()).filter(|text| !text.trim().is_empty());
    if chosen.is_none() && text.is_none() {
        return stage.set(Stage::Failed(AppError::invalid("export", "choose the exported file or paste its JSON")));
    }
    let cannot = || stage.set(Stage::Failed(AppError::Unavailable { message: "this browser cannot send files".into() }));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return cannot() };
    if xhr.open("POST", "/api/imports").is_err() || xhr.set_request_header("Content-Type", "application/json").is_err() {
        return cannot();
    }
    stage.set(Stage::Uploading(0.0, chosen.as_ref().map_or(0.0, |f| f.size())));
    let uploaded = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| stage.set(Stage::Uploading(ev.loaded(), ev.total())));
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(uploaded.as_ref().unchecked_ref()));
    }
    let answer = xhr.clone();
    let arriving = Closure::<dyn FnMut()>::new(move || {
        if answer.status().unwrap_or(0) == 200 {
            if let Some(Line::Progress { done, total }) = last_line(&answer) {
                stage.set(Stage::Importing(done, total));
            }
        }
    });
    xhr.set_onprogress(Some(arriving.as_ref().unchecked_ref()));
    let answer = xhr.clone();
    // Called once; it owns the other handlers, so all are freed when the request ends.
    let done = Closure::once_into_js(move || {
        drop((uploaded, arriving));
        stage.set(finished(&answer));
    });
    xhr.set_onloadend(Some(done.unchecked_ref()));
    let sent = match (chosen, text) {
        (Some(file), _) => xhr.send_with_opt_blob(Some(&file)),
        (None, text) => xhr.send_with_opt_str(text.as_deref()),
    };
    if sent.is_err() {
        cannot();
    }
}

#[cfg(not(feature = "hydrate"))]
fn start(_: NodeRef<leptos::html::Input>, _: NodeRef<leptos::html::Textarea>, _: RwSignal<Stage>) {}

/// A line of `POST /api/imports`'s answer.
#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Progress { done: u64, total: u64 },
    Report { report: ImportReport },
    Failed { error: AppError },
}

/// The last whole line received so far.
#[cfg(feature = "hydrate")]
fn last_line(xhr: &web_sys::XmlHttpRequest) -> Option<Line> {
    let text = xhr.response_text().ok().flatten()?;
    let whole = &text[..text.rfind('\n')?];
    serde_json::from_str(whole.rsplit('\n').next()?).ok()
}

/// What the finished request says: the report, or why there is none.
#[cfg(feature = "hydrate")]
fn finished(xhr: &web_sys::XmlHttpRequest) -> Stage {
    let stopped = "the import stopped before it finished: the platforms imported so far stay, and importing the same file again imports the rest";
    match xhr.status().unwrap_or(0) {
        0 => Stage::Failed(AppError::Unavailable { message: "Keyport could not be reached: check the connection and import the file again".into() }),
        200 => match last_line(xhr) {
            Some(Line::Report { report }) => Stage::Done(report),
            Some(Line::Failed { error }) => Stage::Failed(error),
            _ => Stage::Failed(AppError::Unavailable { message: stopped.into() }),
        },
        status => {
            let body: serde_json::Value = xhr.response_text().ok().flatten().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
            let error = serde_json::from_value::<AppError>(body["error"].clone()).map(|e| match e {
                // The file is the field the person sees.
                AppError::Invalid { fields } => AppError::invalid("export", fields.0.into_iter().map(|f| f.message).collect::<Vec<_>>().join("; ")),
                e => e,
            });
            Stage::Failed(error.unwrap_or_else(|_| AppError::Unavailable { message: format!("Keyport answered {status}: import the file again") }))
        }
    }
}
