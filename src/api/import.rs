//! Server function of the import form: an export of the older Medusa-style store, pasted
//! or loaded from a file. The JSON holds plaintext tokens: it is never logged or echoed.

use crate::domain::{AppError, ImportReport, SecretText};
use leptos::prelude::*;

#[server]
pub async fn import_platforms(export: SecretText) -> Result<ImportReport, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, import, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        if export.expose().trim().is_empty() {
            return Err(AppError::invalid("export", "is empty: paste the exported JSON or choose the file"));
        }
        import::run(&app_state()?, &caller(), export.expose().as_bytes()).await
    })
    .await
}
