//! The composer's unsent work, kept in this browser's localStorage: a reload, a crash or a
//! closed tab loses nothing, and it is forgotten once the post is saved. Nothing of it
//! reaches the server until the person presses the button.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub text: String,
    pub link: String,
    pub accounts: Vec<Uuid>,
    /// Accounts' own texts.
    #[serde(default)]
    pub texts: std::collections::BTreeMap<Uuid, String>,
    /// Files already uploaded, with their alt texts.
    #[serde(default)]
    pub media: Vec<crate::domain::Attached>,
}

impl Draft {
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.link.trim().is_empty() && self.media.is_empty() && self.texts.values().all(|t| t.trim().is_empty())
    }
}

#[cfg(feature = "hydrate")]
const KEY: &str = "keyport.composer";

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// What this browser kept, if anything (always nothing on the server).
pub fn load() -> Option<Draft> {
    #[cfg(feature = "hydrate")]
    return storage()?.get_item(KEY).ok().flatten().and_then(|s| serde_json::from_str(&s).ok()).filter(|d: &Draft| !d.is_empty());
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Keeps `draft`, or forgets it when it is empty.
pub fn save(draft: &Draft) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let _ = match (draft.is_empty(), serde_json::to_string(draft)) {
            (false, Ok(json)) => storage.set_item(KEY, &json),
            _ => storage.remove_item(KEY),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = draft;
}
