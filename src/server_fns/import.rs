//! Server function of the import form: an export of the older Medusa-style store, pasted
//! or loaded from a file. The JSON holds plaintext tokens: it is never logged or echoed.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, ImportReport, SecretText};
use leptos::prelude::*;

#[server]
pub async fn import_platforms(export: SecretText) -> Result<ImportReport, AppError> {
    guarded(Role::Admin, |cx| async move {
        if export.expose().trim().is_empty() {
            return Err(AppError::invalid("export", "is empty: paste the exported JSON or choose the file"));
        }
        if export.expose().len() > import::IMPORT_MAX_BYTES {
            return Err(AppError::invalid("export", format!("is larger than {} MiB: import it with `keyport import FILE`", import::IMPORT_MAX_BYTES / 1024 / 1024)));
        }
        import::run(&cx.state, &cx.caller, export.expose().as_bytes(), |_, _| {}).await
    })
    .await
}
