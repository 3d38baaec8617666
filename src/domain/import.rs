//! What an import from the older Medusa-style store did, as the report shows it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub platforms_created: u32,
    /// Secrets that arrived in plaintext (their platforms are flagged for re-authentication).
    pub from_plaintext: u32,
    /// Secrets decrypted from the old store's ciphertext.
    pub from_ciphertext: u32,
    pub problems: Vec<ImportProblem>,
}

/// One thing that was not imported (or not as it was), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    /// The platform's name, or its position in the file when it has none.
    pub platform: String,
    pub field: Option<String>,
    pub reason: String,
}

impl ImportReport {
    pub fn imported(&self) -> u32 {
        self.from_plaintext + self.from_ciphertext
    }

    /// One line for the command line and the audit log.
    pub fn summary(&self) -> String {
        format!(
            "{} platforms created; {} secrets imported ({} from plaintext, {} from ciphertext); {} problems",
            self.platforms_created,
            self.imported(),
            self.from_plaintext,
            self.from_ciphertext,
            self.problems.len()
        )
    }
}
