use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The confirmation a page shows after a redirect (`?notice=created` and so on).
#[component]
pub fn Notice() -> impl IntoView {
    let query = use_query_map();
    let message = move || query.read().get("notice").and_then(|code| notice(&code));
    view! {
        <div role="status" class="notice-slot">
            {move || message().map(|(kind, m)| view! { <p class=format!("notice {kind}")>{m}</p> })}
        </div>
    }
}

/// The kind ("success" or "error") and text of a notice code; unknown codes show nothing,
/// so a crafted link cannot put words in Keyport's mouth.
fn notice(code: &str) -> Option<(&'static str, &'static str)> {
    let error = match code {
        "disconnected_unrevoked" => {
            "Disconnected here and the tokens were deleted, but the provider could not be told: revoke Keyport's access in the provider's account settings."
        }
        "oauth_denied" => "Access was not granted at the provider. Press Connect again and choose Approve to connect.",
        "oauth_error" => "The provider refused the request. Check the OAuth settings (client id, scopes, redirect URI), then connect again; the audit log has the provider's answer.",
        "oauth_failed" => "The provider did not complete the connection. Nothing was stored; try Connect again, and if it keeps failing check the OAuth settings (the audit log has the details).",
        "oauth_not_ready" => "This platform cannot connect yet: an admin must complete its OAuth settings (see below).",
        "instance_missing" => "Type the instance your account is on (for example mastodon.social), then press Connect.",
        "app_password_refused" => "Bluesky refused the handle or the app password. Check both (an app password is made under Settings → Privacy and security → App passwords) and connect again; nothing was stored.",
        "app_password_limited" => "Bluesky allows only a few sign-ins per handle in five minutes. Wait a few minutes, then connect again; nothing was stored.",
        "pick_none" => "Choose at least one Page, or press Cancel.",
        "slots_invalid" => "Posting slots: tick at least one day and type times like 09:00, 17:30. Nothing was changed.",
        "slots_zone_unknown" => "Posting slots: that time zone is unknown; type a name such as Europe/Paris, America/New_York or UTC. Nothing was changed.",
        "board_invalid" => "That is not one of the account's boards: choose one from the list. Nothing was changed.",
        "destination_invalid" => "That is not a subreddit: type one like r/rust (3 to 21 letters, digits or underscores), or u/yourname for your profile. Nothing was changed.",
        "instance_invalid" => "That is not an instance address: type only its name, for example mastodon.social (no @user, path or query).",
        other => return success(other).map(|m| ("success", m)),
    };
    Some(("error", error))
}

fn success(code: &str) -> Option<&'static str> {
    match code {
        "post_saved" => Some("Post saved."),
        "connected" => Some("Connected. The tokens are stored encrypted and renewed automatically."),
        "disconnected_local" => Some("Disconnected: the tokens were deleted. The provider offers no way to revoke them from here; remove Keyport's access in the provider's settings if you no longer use it."),
        "pages_connected" => Some("Pages connected. Each one keeps its own Page token, stored encrypted."),
        "pick_cancelled" => Some("Nothing was connected."),
        "destination_saved" => Some("Saved: this account's posts go there from now on."),
        "slots_saved" => Some("Posting slots saved: \"Add to queue\" in the composer uses them."),
        "disconnected" => Some("Disconnected: access was revoked at the provider and the tokens were deleted."),
        "created" => Some("Platform created."),
        "saved" => Some("Changes saved."),
        "deleted" => Some("Platform deleted."),
        "secret_saved" => Some("Secret saved and encrypted."),
        "secret_removed" => Some("Secret removed."),
        "welcome" => Some("Welcome! Keyport is set up and you are signed in as its first admin."),
        "signed_out" => Some("You are signed out."),
        "user_created" => Some("User created."),
        "user_updated" => Some("User updated."),
        "password_reset" => Some("Password reset. The user's open sessions have ended."),
        "token_revoked" => Some("API token revoked."),
        "password_changed" => Some("Password changed. Your other sessions have ended."),
        _ => None,
    }
}
