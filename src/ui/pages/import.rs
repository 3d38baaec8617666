//! `/import` (admins): platforms exported from the older Medusa-style store, pasted or read
//! from a file, imported with a report of what came from plaintext, from ciphertext, and
//! what failed and why.

use crate::{
    server_fns::import::ImportPlatforms,
    domain::ImportReport,
    ui::components::{error_view::FormAlert, viewer::AdminOnly},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn ImportPage() -> impl IntoView {
    view! { <AdminOnly><Import/></AdminOnly> }
}

#[component]
fn Import() -> impl IntoView {
    let import = ServerAction::<ImportPlatforms>::new();
    let error = Signal::derive(move || import.value().get().and_then(Result::err));
    let form = NodeRef::<leptos::html::Form>::new();
    // The pasted export holds tokens: clear it from the page once imported.
    Effect::new(move |_| {
        if matches!(import.value().get(), Some(Ok(_))) {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <Title text="Import"/>
        <div class="page-header"><div>
            <h1>"Import from the old store"</h1>
            <p class="lede">"A JSON array of platforms exported from the Medusa plugin. Tokens are encrypted with Keyport's key as they arrive; nothing is stored in plaintext."</p>
        </div></div>
        <ActionForm action=import node_ref=form attr:class="card form" attr:autocomplete="off">
            <FormAlert error/>
            <div class="field">
                <label for="import-export">"Exported JSON"</label>
                <textarea id="import-export" name="export" rows="10" class="mono" spellcheck="false" aria-describedby="import-hint"></textarea>
                <p class="hint" id="import-hint">
                    "Encrypted fields ({encrypted, iv, authTag, keyVersion}) need the old keys as LEGACY_ENCRYPTION_KEY_V<n>. "
                    "Large files: " <code>"keyport import FILE"</code> "."
                </p>
            </div>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || import.pending().get()>
                    {move || if import.pending().get() { "Importing…" } else { "Import" }}
                </button>
            </div>
        </ActionForm>
        {move || import.value().get().and_then(Result::ok).map(|report| view! { <Report report/> })}
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
