//! `/keys` (admins): every key version and what it protects, the next step in plain
//! words, and the re-encryption job with a live progress bar, pause and resume.

use crate::{
    server_fns::keys::{get_key_panel, PauseRotation, StartRotation},
    domain::{JobState, KeyPanel, RotationJob},
    ui::components::{
        error_view::{ErrorView, FormAlert},
        poll::poll_while,
        timestamp::Timestamp,
        viewer::AdminOnly,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <AdminOnly><Keys/></AdminOnly> }
}

#[component]
fn Keys() -> impl IntoView {
    let start = ServerAction::<StartRotation>::new();
    let pause = ServerAction::<PauseRotation>::new();
    // While a job runs the page asks again every second, so the bar moves by itself.
    let tick = RwSignal::new(0u32);
    let running = RwSignal::new(false);
    let panel = Resource::new(move || (tick.get(), start.version().get(), pause.version().get()), |_| get_key_panel());
    poll_while(running, tick, 1);
    let error = Signal::derive(move || start.value().get().and_then(Result::err).or_else(|| pause.value().get().and_then(Result::err)));
    view! {
        <Title text="Encryption keys"/>
        <div class="page-header"><div>
            <h1>"Encryption keys"</h1>
            <p class="lede">"Which key protects how many secrets, and re-encryption to the current key. Keys themselves are never shown."</p>
        </div></div>
        <FormAlert error/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match panel.await {
                    Ok(p) => {
                        running.set(p.job.as_ref().is_some_and(|j| j.state == JobState::Running));
                        view! { <Panel panel=p start pause/> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        <RotationGuide/>
    }
}

#[component]
fn Panel(panel: KeyPanel, start: ServerAction<StartRotation>, pause: ServerAction<PauseRotation>) -> impl IntoView {
    let stale: i64 = panel.versions.iter().filter(|v| !v.current).map(|v| v.secrets).sum();
    let active = panel.job.as_ref().is_some_and(|j| j.state != JobState::Done);
    view! {
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Key versions"</h2>
            <table>
                <thead><tr><th scope="col">"Version"</th><th scope="col">"Key"</th><th scope="col">"Secrets"</th><th scope="col">"Encryptions"</th></tr></thead>
                <tbody>
                    {panel.versions.iter().map(|v| view! {
                        <tr>
                            <td>{format!("v{}", v.version)}{v.current.then(|| view! { " " <span class="badge status-active">"current"</span> })}</td>
                            <td>{if v.configured { "configured; matches its check value" } else { "not configured" }}</td>
                            <td>{v.secrets}</td>
                            <td>{v.encryptions}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Next step"</h3>
            <ul class="next-steps">{panel.next_steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
        </section>
        <section class="card" aria-labelledby="job-heading">
            <h2 id="job-heading">"Re-encryption"</h2>
            {panel.job.clone().map(|job| view! { <JobProgress job pause/> })}
            {(!active).then(|| view! {
                <ActionForm action=start>
                    <button type="submit" class="button primary" disabled=move || start.pending().get() || stale == 0>
                        {format!("Re-encrypt all to the current key (v{})", panel.current_version)}
                    </button>
                </ActionForm>
                {(stale == 0).then(|| view! { <p class="hint">"Nothing to re-encrypt: every secret uses the current key."</p> })}
            })}
        </section>
    }
}

#[component]
fn JobProgress(job: RotationJob, pause: ServerAction<PauseRotation>) -> impl IntoView {
    let state = match job.state {
        JobState::Running => "Running",
        JobState::Paused => "Paused",
        JobState::Done => "Finished",
    };
    let rate = job.rate().map(|r| format!("{r:.0} secrets/s")).unwrap_or_else(|| "—".into());
    let left = match (job.state, job.seconds_left()) {
        (JobState::Done, _) => "done".to_owned(),
        (_, Some(s)) => format!("about {} left", human_seconds(s)),
        (_, None) => "estimating…".to_owned(),
    };
    view! {
        <p>
            <strong>{state}</strong>
            {format!(" · to key v{} · started by {} ", job.target_version, job.started_by)}
            <Timestamp at=job.started_at/>
        </p>
        <progress max=job.total.max(1) value=if job.total == 0 { 1 } else { job.handled() } aria-label="Re-encryption progress"></progress>
        <p class="progress-text" role="status">
            {format!("{} of {} ({}%) · {} · {}", job.handled(), job.total, job.percent(), rate, left)}
        </p>
        {(job.failed > 0).then(|| view! {
            <p class="notice error">{format!("{} secrets could not be decrypted and were left as they are (missing key or tampered): see Needs attention.", job.failed)}</p>
        })}
        {match job.state {
            JobState::Running => Some(view! {
                <ActionForm action=pause>
                    <input type="hidden" name="paused" value="true"/>
                    <button type="submit" class="button">"Pause"</button>
                </ActionForm>
            }.into_any()),
            JobState::Paused => Some(view! {
                <ActionForm action=pause>
                    <input type="hidden" name="paused" value="false"/>
                    <button type="submit" class="button primary">"Resume"</button>
                </ActionForm>
            }.into_any()),
            JobState::Done => None,
        }}
    }
}

fn human_seconds(s: f64) -> String {
    let s = s.ceil() as u64;
    if s < 90 {
        format!("{s} s")
    } else {
        format!("{} min", s.div_ceil(60))
    }
}

/// The procedure, short; docs/encryption.md has the same in full.
#[component]
fn RotationGuide() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="guide-heading">
            <h2 id="guide-heading">"How to rotate the key"</h2>
            <ol>
                <li>"Generate a new key: " <code>"keyport keys generate"</code>"."</li>
                <li>"Move the current key to " <code>"ENCRYPTION_KEY_V<n>"</code> " (n = its version), put the new key in " <code>"ENCRYPTION_KEY"</code> " and raise " <code>"ENCRYPTION_KEY_VERSION"</code> " by one."</li>
                <li>"Restart every instance. New secrets use the new key at once; old ones still decrypt with theirs."</li>
                <li>"Press " <em>"Re-encrypt all"</em> " here (or run " <code>"keyport keys rotate"</code> "). It can be paused, and survives restarts."</li>
                <li>"When the old version shows 0 secrets, remove its " <code>"ENCRYPTION_KEY_V<n>"</code> " and restart."</li>
            </ol>
        </section>
    }
}
