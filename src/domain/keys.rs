//! Key rotation as the keys panel shows it: each key version's use, the re-encryption job
//! and its progress, and the next step in plain words.

use super::{enums::wire_enum, KeyVersionStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// Where a re-encryption job is.
    JobState, "job state" {
        Running => "running", "Running";
        Paused => "paused", "Paused";
        Done => "done", "Finished";
    }
}

/// A re-encryption job: every secret not on `target_version` re-sealed with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RotationJob {
    pub id: Uuid,
    pub state: JobState,
    pub target_version: u32,
    pub total: i64,
    pub done: i64,
    /// Secrets that could not be decrypted (missing key, tampered): left as they are.
    pub failed: i64,
    /// Seconds spent working (pauses excluded), for the rate.
    pub busy_seconds: f64,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl RotationJob {
    /// Handled so far (re-encrypted or given up on), out of `total`.
    pub fn handled(&self) -> i64 {
        (self.done + self.failed).min(self.total)
    }

    pub fn percent(&self) -> u32 {
        if self.total == 0 {
            100
        } else {
            (self.handled() * 100 / self.total) as u32
        }
    }

    /// Secrets per second while working.
    pub fn rate(&self) -> Option<f64> {
        (self.busy_seconds > 0.0 && self.handled() > 0).then(|| self.handled() as f64 / self.busy_seconds)
    }

    /// Seconds left at the current rate.
    pub fn seconds_left(&self) -> Option<f64> {
        self.rate().map(|r| (self.total - self.handled()).max(0) as f64 / r)
    }
}

/// Everything the keys panel shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyPanel {
    pub current_version: u32,
    pub versions: Vec<KeyVersionStatus>,
    /// The latest job, if any was ever started.
    pub job: Option<RotationJob>,
    /// What to do next, one sentence per step.
    pub next_steps: Vec<String>,
}

impl KeyPanel {
    /// The advice for these versions: put back missing keys, re-encrypt, remove unused keys.
    pub fn advise(current_version: u32, versions: &[KeyVersionStatus]) -> Vec<String> {
        let plural = |n: i64| if n == 1 { "secret still uses" } else { "secrets still use" };
        let mut steps = Vec::new();
        for v in versions.iter().filter(|v| !v.current) {
            match (v.configured, v.secrets) {
                (false, 0) => {}
                (false, n) => steps.push(format!(
                    "{n} {} v{} but ENCRYPTION_KEY_V{} is not set: they cannot be decrypted until you put that key back.",
                    plural(n), v.version, v.version
                )),
                (true, 0) => steps.push(format!(
                    "v{} is no longer used: it is safe to remove ENCRYPTION_KEY_V{} from the environment.",
                    v.version, v.version
                )),
                (true, n) => steps.push(format!(
                    "{n} {} v{} — re-encrypt them, then ENCRYPTION_KEY_V{} can be removed.",
                    plural(n), v.version, v.version
                )),
            }
        }
        if steps.is_empty() {
            steps.push(format!(
                "Every secret uses the current key v{current_version}. To rotate: run `keyport keys generate`, set the new key as \
                 ENCRYPTION_KEY with ENCRYPTION_KEY_VERSION={next}, keep the current one as ENCRYPTION_KEY_V{current_version}, \
                 restart every instance, then press Re-encrypt.",
                next = current_version + 1
            ));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(version: u32, current: bool, configured: bool, secrets: i64) -> KeyVersionStatus {
        KeyVersionStatus { version, current, configured, secrets, encryptions: secrets }
    }

    #[test]
    fn advice_names_the_variable_and_the_count() {
        let steps = KeyPanel::advise(2, &[version(1, false, true, 12), version(2, true, true, 3)]);
        assert_eq!(steps, ["12 secrets still use v1 — re-encrypt them, then ENCRYPTION_KEY_V1 can be removed."]);
        let steps = KeyPanel::advise(2, &[version(1, false, true, 0), version(2, true, true, 15)]);
        assert_eq!(steps, ["v1 is no longer used: it is safe to remove ENCRYPTION_KEY_V1 from the environment."]);
        let steps = KeyPanel::advise(3, &[version(1, false, false, 1), version(3, true, true, 1)]);
        assert!(steps[0].starts_with("1 secret still uses v1 but ENCRYPTION_KEY_V1 is not set"), "{steps:?}");
        let steps = KeyPanel::advise(1, &[version(1, true, true, 4)]);
        assert!(steps[0].contains("ENCRYPTION_KEY_VERSION=2"), "{steps:?}");
    }

    #[test]
    fn progress_rate_and_time_left() {
        let job = RotationJob {
            id: Uuid::nil(),
            state: JobState::Running,
            target_version: 2,
            total: 1000,
            done: 240,
            failed: 10,
            busy_seconds: 0.5,
            started_by: "a".into(),
            started_at: Utc::now(),
            finished_at: None,
            last_error: None,
        };
        assert_eq!(job.percent(), 25);
        assert_eq!(job.rate(), Some(500.0));
        assert_eq!(job.seconds_left(), Some(1.5));
        assert_eq!(RotationJob { total: 0, done: 0, failed: 0, ..job }.percent(), 100);
    }
}

/// What a person must do for a platform on the "needs attention" list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionAction {
    /// Connect an OAuth platform for the first time.
    Connect,
    /// Go through OAuth again.
    Reauthenticate,
    /// Type the secret in again (admins).
    SetSecret,
}

/// One page of the "needs attention" list, with the cursors of the pages around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionPage {
    pub items: Vec<AttentionItem>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// A platform that needs a human, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    pub platform_id: Uuid,
    pub name: String,
    pub reasons: Vec<String>,
    pub action: AttentionAction,
}
