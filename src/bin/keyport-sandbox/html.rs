//! The sandbox's HTML pages, written as plain strings. Every interpolated value goes
//! through [`escape`]; pages load nothing external (styles are inline).

use crate::posts::Post;

/// Escapes text for use in HTML element content and double- or single-quoted attributes.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;border:1px solid #d9dce3;border-radius:8px;padding:1.5rem 2rem}\
h1{font-size:1.4rem;margin-top:0}h2{font-size:1rem;margin-bottom:.4rem}\
code{background:#eef0f4;padding:.1rem .3rem;border-radius:4px}\
label{display:block;font-weight:600;margin:1rem 0 .3rem}\
input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #b9bfcc;border-radius:4px;font:inherit}\
.actions{display:flex;gap:.75rem;margin-top:1.25rem}\
button{font:inherit;padding:.5rem 1.2rem;border-radius:4px;border:1px solid #b9bfcc;background:#fff;cursor:pointer}\
button[value=approve]{background:#2350d8;border-color:#2350d8;color:#fff}\
.muted{color:#5d6575;font-size:.9rem}.error{color:#a0201b}\
table{border-collapse:collapse;width:100%}td{padding:.25rem .5rem;border-top:1px solid #eceef2;vertical-align:top}\
blockquote{white-space:pre-wrap;margin:1rem 0;padding:.75rem 1rem;background:#f7f8fa;border-left:4px solid #2350d8}";

/// Wraps `body` (already-escaped HTML) in a complete page.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>\n{body}\n</main></body></html>\n",
        title = escape(title)
    )
}

pub fn index_page(base_url: &str) -> String {
    let rows = [
        ("GET", "/.well-known/oauth-authorization-server", "RFC 8414 metadata"),
        ("POST", "/register", "register a client (JSON)"),
        ("GET", "/authorize", "consent page (authorization code + PKCE S256)"),
        ("POST", "/token", "authorization_code and refresh_token grants"),
        ("POST", "/revoke", "RFC 7009 token revocation"),
        ("GET", "/userinfo", "the connected account"),
        ("POST", "/api/posts", "publish a post (Bearer, Idempotency-Key)"),
        ("GET", "/posts/{id}", "view a post"),
        ("POST/DELETE", "/faults", "schedule or clear injected failures"),
        ("POST", "/admin/revoke-all", "revoke every grant"),
        ("POST", "/admin/config", "set token_ttl for new tokens"),
        ("GET", "/admin/stats", "request and token counters"),
    ];
    let rows: String = rows
        .iter()
        .map(|(method, path, what)| format!("<tr><td>{method}</td><td><code>{}</code></td><td>{what}</td></tr>", escape(path)))
        .collect();
    let body = format!(
        "<h1>Keyport sandbox</h1>\
         <p>An offline OAuth 2.0 authorization server and fake social API for demos and tests. \
         State lives in memory and is lost on restart.</p>\
         <p class=\"muted\">Base URL: <code>{}</code></p><table>{rows}</table>",
        escape(base_url)
    );
    page("Keyport sandbox", &body)
}

/// What the consent page shows and carries through to `POST /authorize`.
pub struct Consent<'a> {
    pub client_name: &'a str,
    pub scope: &'a str,
    pub redirect_uri: &'a str,
    /// Original request parameters, sent back as hidden inputs.
    pub hidden: &'a [(&'a str, &'a str)],
    /// Where the form posts (the endpoint that showed it).
    pub action: &'a str,
    /// The Meta dialect: the user names their Pages and may decline permissions.
    pub meta: bool,
}

pub const DEFAULT_ACCOUNT: &str = "Sandbox Marketing";
/// The Pages a Meta consent offers by default: two managed directly, one through a business.
pub const DEFAULT_PAGES: &str = "Sandbox Bakery, Sandbox Books";
pub const DEFAULT_BUSINESS_PAGES: &str = "Sandbox Agency Client";

pub fn consent_page(consent: &Consent) -> String {
    let scopes: String = consent.scope.split_ascii_whitespace().map(|scope| format!("<li><code>{}</code></li>", escape(scope))).collect();
    let scopes = if scopes.is_empty() { "<p class=\"muted\">No specific scopes requested.</p>".to_owned() } else { format!("<ul>{scopes}</ul>") };
    let scopes = if consent.meta { meta_fields(consent.scope) } else { scopes };
    let hidden: String = consent
        .hidden
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value)))
        .collect();
    let title = format!("Authorize {}", consent.client_name);
    let body = format!(
        "<h1>{title}</h1>\
         <p><strong>{client}</strong> wants to access your sandbox account.</p>\
         <h2>Requested scopes</h2>{scopes}\
         <form method=\"post\" action=\"{action}\" id=\"consent\">\
         <label for=\"account\">Account name</label>\
         <input type=\"text\" id=\"account\" name=\"account\" value=\"{account}\" autocomplete=\"off\">\
         {hidden}\
         <div class=\"actions\"><button name=\"decision\" value=\"approve\">Approve</button>\
         <button name=\"decision\" value=\"deny\">Deny</button></div>\
         </form>\
         <p class=\"muted\">You will be sent back to <code>{redirect}</code>.</p>",
        title = escape(&title),
        client = escape(consent.client_name),
        account = escape(DEFAULT_ACCOUNT),
        redirect = escape(consent.redirect_uri),
        action = escape(consent.action),
    );
    page(&title, &body)
}

/// The Meta consent's own part: every permission as a checkbox (unchecked = declined) and
/// the Pages the user manages, directly and through their business portfolio.
fn meta_fields(scope: &str) -> String {
    let permissions: String = scope
        .split_ascii_whitespace()
        .map(|p| format!("<li><label><input type=\"checkbox\" name=\"grant.{0}\" checked form=\"consent\"> <code>{0}</code></label></li>", escape(p)))
        .collect();
    format!(
        "<h2>Permissions</h2><p class=\"muted\">Uncheck a permission to decline it.</p><ul>{permissions}</ul>\
         <label for=\"pages\">Pages you manage (comma separated)</label>\
         <input type=\"text\" id=\"pages\" name=\"pages\" value=\"{pages}\" form=\"consent\" autocomplete=\"off\">\
         <label for=\"business_pages\">Pages of your business portfolio</label>\
         <input type=\"text\" id=\"business_pages\" name=\"business_pages\" value=\"{business}\" form=\"consent\" autocomplete=\"off\">",
        pages = escape(DEFAULT_PAGES),
        business = escape(DEFAULT_BUSINESS_PAGES),
    )
}

pub fn error_page(title: &str, message: &str) -> String {
    page(title, &format!("<h1 class=\"error\">{}</h1><p>{}</p>", escape(title), escape(message)))
}

pub fn post_page(post: &Post) -> String {
    let link = match &post.link {
        // Only http(s) becomes a clickable link; anything else (javascript:, data:) is shown as text.
        Some(link) if link.starts_with("https://") || link.starts_with("http://") => {
            format!("<p><a href=\"{0}\" rel=\"noopener noreferrer nofollow\">{0}</a></p>", escape(link))
        }
        Some(link) => format!("<p class=\"muted\">{}</p>", escape(link)),
        None => String::new(),
    };
    let body = format!(
        "<h1>{name}</h1><p class=\"muted\">@{username} · {date}</p><blockquote>{text}</blockquote>{figures}{link}",
        name = escape(&post.account.name),
        username = escape(&post.account.username()),
        date = post.created_at.format("%Y-%m-%d %H:%M UTC"),
        text = escape(&post.text),
        figures = crate::media::figures(&post.media),
    );
    page(&format!("Post by {}", post.account.name), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x" title='y'>&</a>"#), "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;");
        assert_eq!(escape("plain text é"), "plain text é");
    }

    #[test]
    fn consent_page_has_the_form_tests_rely_on() {
        let hidden = [("client_id", "sbx_client_1"), ("state", "\"><script>")];
        let html = consent_page(&Consent { client_name: "Key<port>", scope: "profile posts.write", redirect_uri: "http://app/cb", hidden: &hidden, action: "/authorize", meta: false });
        assert!(html.contains("<title>Authorize Key&lt;port&gt;</title>"));
        assert!(html.contains(r#"<button name="decision" value="approve">Approve</button>"#));
        assert!(html.contains(r#"<button name="decision" value="deny">Deny</button>"#));
        assert!(html.contains(r#"<label for="account">Account name</label>"#));
        assert!(html.contains(r#"id="account" name="account" value="Sandbox Marketing""#));
        assert!(html.contains(r#"<input type="hidden" name="state" value="&quot;&gt;&lt;script&gt;">"#));
        assert!(html.contains("<code>posts.write</code>"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("src="), "no external resources");
    }

    #[test]
    fn post_page_escapes_and_only_links_http() {
        let mut post = Post {
            account: Account::named("Sandbox Marketing"),
            text: "<b>hi</b>".into(),
            link: Some("javascript:alert(1)".into()),
            created_at: chrono::Utc::now(),
            media: Vec::new(),
        };
        let html = post_page(&post);
        assert!(html.contains("&lt;b&gt;hi&lt;/b&gt;"));
        assert!(!html.contains("href=\"javascript"));
        post.link = Some("https://example.com/?a=1&b=2".into());
        assert!(post_page(&post).contains("href=\"https://example.com/?a=1&amp;b=2\""));
    }
}
