//! `/keys` (admins): every data key and what it protects, the root key's source, Rotate
//! now and Retire (each behind a confirmation), the next step in plain words, and the
//! re-encryption job with a live progress bar, pause and resume.

use crate::{
    server_fns::keys::{get_key_panel, PauseRotation, RetireKey, RotateKey, StartRotation},
    domain::{JobState, KeyPanel, KeyState, RotationJob},
    ui::components::{
        error_view::{ErrorView, FormAlert},
        poll::poll_while,
        timestamp::Timestamp,
        viewer::AdminOnly,
    },
};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <AdminOnly><Keys/></AdminOnly> }
}

#[component]
fn Keys() -> impl IntoView {
    let actions = Actions { rotate: ServerAction::new(), retire: ServerAction::new(), start: ServerAction::new(), pause: ServerAction::new() };
    // While a job runs the page asks again every second, so the bar moves by itself.
    let tick = RwSignal::new(0u32);
    let running = RwSignal::new(false);
    let panel = resource(
        move || (tick.get(), actions.rotate.version().get(), actions.retire.version().get(), actions.start.version().get(), actions.pause.version().get()),
        |_| get_key_panel(),
    );
    poll_while(running, tick, 1);
    let error = Signal::derive(move || {
        let a = actions;
        a.rotate.value().get().and_then(Result::err)
            .or_else(|| a.retire.value().get().and_then(Result::err))
            .or_else(|| a.start.value().get().and_then(Result::err))
            .or_else(|| a.pause.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Encryption keys"/>
        <div class="page-header"><div>
            <h1>"Encryption keys"</h1>
            <p class="lede">"The data keys that seal every secret, what each protects, and rotation to a new one. Keys themselves are never shown."</p>
        </div></div>
        <FormAlert error/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match panel.await {
                    Ok(p) => {
                        running.set(p.job.as_ref().is_some_and(|j| j.state == JobState::Running));
                        view! { <Panel panel=p actions/> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        <RotationGuide/>
    }
}

/// The page's buttons.
#[derive(Clone, Copy)]
struct Actions {
    rotate: ServerAction<RotateKey>,
    retire: ServerAction<RetireKey>,
    start: ServerAction<StartRotation>,
    pause: ServerAction<PauseRotation>,
}

#[component]
fn Panel(panel: KeyPanel, actions: Actions) -> impl IntoView {
    let Actions { rotate, retire, start, pause } = actions;
    let stale: i64 = panel.versions.iter().filter(|v| !v.is_active()).map(|v| v.secrets).sum();
    let protected: i64 = panel.versions.iter().map(|v| v.secrets).sum();
    let active_job = panel.job.as_ref().is_some_and(|j| j.state != JobState::Done);
    let current = panel.current_version;
    let next = panel.versions.iter().map(|v| v.version).max().unwrap_or(current) + 1;
    let schedule = match panel.rotate_every_days {
        Some(days) => format!("Rotated automatically every {days} days (KEY_ROTATION_DAYS)."),
        None => "No rotation schedule (set KEY_ROTATION_DAYS to rotate every N days).".to_owned(),
    };
    view! {
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Data keys"</h2>
            <p>
                "Root key: " <strong>{panel.root_source.clone()}</strong>
                {(!panel.root_check_value.is_empty()).then(|| view! { " · check value " <code>{panel.root_check_value.clone()}</code> })}
                ". It only wraps the data keys below."
            </p>
            <table>
                <thead><tr>
                    <th scope="col">"Version"</th><th scope="col">"State"</th><th scope="col">"Created"</th>
                    <th scope="col">"Secrets"</th><th scope="col">"Encryptions"</th><th scope="col">"Check value"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {panel.versions.iter().map(|v| {
                        let version = v.version;
                        let state = match (v.state, v.available) {
                            (KeyState::Active, _) => view! { <span class="badge status-active">"active"</span> }.into_any(),
                            (KeyState::DecryptOnly, true) => view! { <span class="badge">"decrypt only"</span> }.into_any(),
                            (KeyState::DecryptOnly, false) => view! { <span class="badge status-error">"not available"</span> }.into_any(),
                            (KeyState::Retired, _) => view! { <span class="badge muted">"retired"</span> }.into_any(),
                        };
                        let retirable = v.state == KeyState::DecryptOnly && v.secrets == 0;
                        view! {
                            <tr>
                                <td>{format!("v{version}")}</td>
                                <td>{state}</td>
                                <td><Timestamp at=v.created_at/></td>
                                <td>{v.secrets}</td>
                                <td>{v.encryptions}</td>
                                <td><code>{v.check_value.chars().take(16).collect::<String>()}</code></td>
                                <td>{retirable.then(|| view! {
                                    <details class="confirm">
                                        <summary class="button">{format!("Retire v{version}…")}</summary>
                                        <p>{format!("v{version} protects 0 secrets. Retiring erases its wrapped copy: nothing sealed with it could be opened again.")}</p>
                                        <ActionForm action=retire>
                                            <input type="hidden" name="version" value=version/>
                                            <button type="submit" class="button danger" disabled=move || retire.pending().get()>{format!("Retire v{version}")}</button>
                                        </ActionForm>
                                    </details>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Next step"</h3>
            <ul class="next-steps">{panel.next_steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
        </section>
        <section class="card" aria-labelledby="rotate-heading">
            <h2 id="rotate-heading">"Rotate"</h2>
            <p>{schedule}</p>
            <details class="confirm">
                <summary class="button primary">"Rotate now…"</summary>
                <p>{format!(
                    "Makes a new random data key, v{next}, active on every instance within seconds (no restart), then re-encrypts the {protected} stored secrets to it. v{current} keeps decrypting until you retire it."
                )}</p>
                <ActionForm action=rotate>
                    <input type="hidden" name="from" value=current/>
                    <button type="submit" class="button primary" disabled=move || rotate.pending().get()>{format!("Rotate to v{next}")}</button>
                </ActionForm>
            </details>
        </section>
        <section class="card" aria-labelledby="job-heading">
            <h2 id="job-heading">"Re-encryption"</h2>
            {panel.job.clone().map(|job| view! { <JobProgress job pause/> })}
            {(!active_job).then(|| view! {
                <ActionForm action=start>
                    <button type="submit" class="button" disabled=move || start.pending().get() || stale == 0>
                        {format!("Re-encrypt all to the active key (v{current})")}
                    </button>
                </ActionForm>
                {(stale == 0).then(|| view! { <p class="hint">"Nothing to re-encrypt: every secret uses the active key."</p> })}
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

/// The model, short; docs/encryption.md has it in full.
#[component]
fn RotationGuide() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="guide-heading">
            <h2 id="guide-heading">"How keys work here"</h2>
            <ol>
                <li>"Secrets are sealed with the active " <em>"data key"</em> ". Data keys are random, and stored in the database wrapped by the " <em>"root key"</em> ", which never seals a secret."</li>
                <li><em>"Rotate now"</em> " (or " <code>"keyport keys rotate"</code> ") makes a new data key; every instance uses it within seconds, without a restart, and the re-encryption below moves every secret to it. It can be paused, and survives restarts."</li>
                <li>"When an old key protects nothing, " <em>"Retire"</em> " erases it."</li>
                <li>"The root key comes from " <code>"ENCRYPTION_KEY"</code> ", or stays in Vault's transit engine or AWS KMS (" <code>"ROOT_KEY_SOURCE"</code> "). To change a local one, set the new one as " <code>"ENCRYPTION_KEY"</code> " and the old one as " <code>"ENCRYPTION_KEY_PREVIOUS"</code> ", restart: only the data keys are rewrapped, in an instant. Then remove " <code>"ENCRYPTION_KEY_PREVIOUS"</code> ". A key in Vault or KMS is rotated there; Vault's new version is taken up at the next start."</li>
            </ol>
        </section>
    }
}
