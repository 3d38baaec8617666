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

wire_enum! {
    /// What a data key may do: seal and open (one key), open only, or nothing (erased).
    KeyState, "key state" {
        Active => "active", "Active";
        DecryptOnly => "decrypt_only", "Decrypt only";
        Retired => "retired", "Retired";
    }
}

/// A key version as people write it, with or without its `v` (`2`, `v2`, as `keys status`
/// and the panel show it).
pub fn parse_key_version(text: &str) -> Option<u32> {
    text.strip_prefix(['v', 'V']).unwrap_or(text).parse().ok()
}

/// A re-encryption job: every secret not on `target_version` re-sealed with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RotationJob {
    pub id: Uuid,
    pub state: JobState,
    pub target_version: u32,
    /// Counted when the job starts; when it finishes, what it handled (other writes may
    /// have moved or deleted some meanwhile).
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyPanel {
    /// The active data key's version.
    pub current_version: u32,
    pub versions: Vec<KeyVersionStatus>,
    /// Where the root key comes from ("ENCRYPTION_KEY (local)"), never the key.
    pub root_source: String,
    /// The root key's check value, to compare instances without revealing it.
    pub root_check_value: String,
    /// `KEY_ROTATION_DAYS`, when data keys are rotated on a schedule.
    pub rotate_every_days: Option<u64>,
    /// The latest job, if any was ever started.
    pub job: Option<RotationJob>,
    /// What to do next, one sentence per step.
    pub next_steps: Vec<String>,
}

impl KeyPanel {
    /// The advice for these keys: re-encrypt what an old key holds, retire what nothing
    /// uses, supply a key from before data keys that is missing.
    pub fn advise(current_version: u32, versions: &[KeyVersionStatus]) -> Vec<String> {
        let plural = |n: i64| if n == 1 { "secret still uses" } else { "secrets still use" };
        let mut steps = Vec::new();
        for v in versions.iter().filter(|v| v.state == KeyState::DecryptOnly) {
            match (v.available, v.secrets) {
                (false, 0) => steps.push(format!("v{} protects nothing and is not available here: retire it.", v.version)),
                (false, n) => steps.push(format!(
                    "{n} {} v{}, which is not available (it predates data keys and was never supplied): set ENCRYPTION_KEY_V{} once to bring it in.",
                    plural(n), v.version, v.version
                )),
                (true, 0) => steps.push(format!("v{} protects nothing any more: retire it.", v.version)),
                (true, n) => steps.push(format!("{n} {} v{} — re-encrypt them to v{current_version}, then retire v{}.", plural(n), v.version, v.version)),
            }
        }
        if steps.is_empty() {
            steps.push(format!("Every secret uses the active data key v{current_version}. Rotate now makes a new one and re-encrypts everything to it, with no restart."));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(version: u32, state: KeyState, available: bool, secrets: i64) -> KeyVersionStatus {
        KeyVersionStatus { version, state, available, check_value: String::new(), created_at: Utc::now(), secrets, encryptions: secrets }
    }

    #[test]
    fn advice_says_what_to_re_encrypt_and_what_to_retire() {
        use KeyState::*;
        let steps = KeyPanel::advise(2, &[version(1, DecryptOnly, true, 12), version(2, Active, true, 3)]);
        assert_eq!(steps, ["12 secrets still use v1 — re-encrypt them to v2, then retire v1."]);
        let steps = KeyPanel::advise(2, &[version(1, DecryptOnly, true, 0), version(2, Active, true, 15)]);
        assert_eq!(steps, ["v1 protects nothing any more: retire it."]);
        let steps = KeyPanel::advise(3, &[version(1, DecryptOnly, false, 1), version(2, Retired, false, 0), version(3, Active, true, 1)]);
        assert_eq!(steps.len(), 1, "a retired key needs nothing: {steps:?}");
        assert!(steps[0].starts_with("1 secret still uses v1, which is not available") && steps[0].contains("ENCRYPTION_KEY_V1"), "{steps:?}");
        let steps = KeyPanel::advise(1, &[version(1, Active, true, 4)]);
        assert!(steps[0].contains("Rotate now"), "{steps:?}");
    }

    #[test]
    fn key_versions_are_read_with_or_without_their_v() {
        assert_eq!(["2", "v2", "V2", "v17"].map(parse_key_version), [Some(2), Some(2), Some(2), Some(17)]);
        assert_eq!(["", "v", "vv2", " v2", "two", "-1", "v4294967296"].map(parse_key_version), [None; 7]);
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
