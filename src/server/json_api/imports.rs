//! `POST /api/imports`: an export of the older Medusa-style store (the file the import form
//! uploads, or a script's), imported a batch at a time while the answer streams a line of
//! JSON per batch written, then the report. The import runs on if the caller goes away:
//! its report is in the audit log, and importing the file again imports what is missing.

use super::{openapi::ErrorBody, require_json, Admin, ApiError, ApiResult};
use crate::{
    domain::{AppError, ImportReport},
    server::{import, state::AppState},
};
use axum::{
    body::{Body, Bytes},
    extract::{rejection::BytesRejection, DefaultBodyLimit, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures::{stream, StreamExt};
use serde::Serialize;
use std::{convert::Infallible, future::ready};
use utoipa::ToSchema;
use utoipa_axum::{router::{OpenApiRouter, UtoipaMethodRouterExt}, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_platforms).layer(DefaultBodyLimit::max(import::UPLOAD_MAX_BYTES)))
}

/// One line of the answer.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum Line {
    /// Entries read so far (their batches written or skipped), of all in the file; the
    /// first line, with `done` 0, says how many there are.
    Progress { done: usize, total: usize },
    /// The last line of an import that ran to its end (a database failure halfway is in
    /// its problems, saying where it stopped).
    Report { report: ImportReport },
    /// The last line of one that could not go on at all.
    Failed { error: ErrorBody },
}

/// The file: a JSON array of exported platforms, each an object with `name`, `category`,
/// `auth_type`, `status`, `description`, `base_url`, `icon_url` and `api_config`. Any
/// value is taken as an entry: one that is not a platform (not an object, a missing name,
/// an unknown category…) is a problem in the report, not a refusal of the file.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the body; the handler reads it entry by entry
struct ExportFile(#[schema(inline)] Vec<serde_json::Value>);

/// Imports platforms, their secrets encrypted as they arrive (plaintext ones flag their
/// platform for re-authentication; `{encrypted, iv, authTag, keyVersion}` ones are opened
/// with `LEGACY_ENCRYPTION_KEY_V<n>`). Names already present are skipped, so the same file
/// can be sent again after a failure.
#[utoipa::path(post, operation_id = "import_platforms", path = "/imports", tag = "import",
    request_body(content = ExportFile, content_type = "application/json"),
    responses(
        (status = 200, description = "Newline-delimited JSON, one `Line` each: progress after every batch of 500, then the report (or, should the import fail outright, the error)", content_type = "application/x-ndjson", body = Line),
        (status = 400, description = "Not valid JSON, or not a JSON array (field `body`)", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit (field `body`); `keyport import FILE` reads any size", body = ErrorBody),
    ))]
async fn import_platforms(Admin(_, caller): Admin, State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<Response> {
    require_json(&headers)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::invalid("body", format!("is larger than {} MiB: import it with `keyport import FILE`", import::UPLOAD_MAX_BYTES / 1024 / 1024)),
        ),
        _ => ApiError::bad_request("body", format!("could not be read ({})", e.body_text())),
    })?;
    let (lines, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    // Its own task: it finishes even when the caller hangs up (shutdown waits for it), and
    // a panic in it ends the answer early instead of the server.
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let entries = match import::entries_of(&body) {
            Ok(entries) => entries,
            Err(reason) => return drop(lines.send(Err(reason))),
        };
        let _ = lines.send(Ok(Line::Progress { done: 0, total: entries.len() }));
        let outcome = import::run_entries(&state, &caller, entries, |done, total| drop(lines.send(Ok(Line::Progress { done, total })))).await;
        let _ = lines.send(Ok(match outcome {
            Ok(report) => Line::Report { report },
            Err(error) => Line::Failed { error: ErrorBody::new(error) },
        }));
    });
    let first = match receiver.recv().await {
        Some(Ok(first)) => first,
        Some(Err(reason)) => return Err(ApiError::bad_request("body", reason)),
        None => return Err(crate::server::error::internal("the import stopped before it began").into()),
    };
    let rest = stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|line| (line, receiver)) }).filter_map(|line| ready(line.ok()));
    let stream = stream::once(ready(first)).chain(rest).map(|line| {
        let mut text = serde_json::to_string(&line).unwrap_or_default();
        text.push('\n');
        Ok::<_, Infallible>(text)
    });
    let mut response = Body::from_stream(stream).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}
