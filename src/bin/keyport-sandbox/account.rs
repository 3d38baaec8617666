//! The remote account a grant gives access to, shared by the OAuth store and the posts.

use crate::secrets;

/// The remote account a grant gives access to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

impl Account {
    pub fn named(name: &str) -> Self {
        Self { id: secrets::account_id(name), name: name.to_owned() }
    }

    /// A Facebook Page (or business): Meta's ids are numeric.
    pub fn page(name: &str) -> Self {
        Self { id: secrets::numeric_id(name), name: name.to_owned() }
    }

    /// The handle shown by `/userinfo`: lower case, spaces as dashes.
    pub fn username(&self) -> String {
        self.name.to_lowercase().replace(' ', "-")
    }
}
