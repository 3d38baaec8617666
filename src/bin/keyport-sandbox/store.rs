//! The sandbox's whole in-memory state and the OAuth rules applied to it: clients,
//! authorization codes, grants with rotating refresh tokens, access tokens, counters.
//!
//! Nothing here knows about HTTP, so the rules (single-use codes, refresh-token reuse
//! detection, revocation) are unit-tested directly. Callers pass `now` in for the same
//! reason: tests can move time forward without sleeping.

use crate::account::Account;
use crate::faults::FaultQueues;
use crate::posts::PostBook;
use crate::secrets::{self, ACCESS_TOKEN_PREFIX, CODE_PREFIX, PAGE_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Authorization codes are short-lived (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// Used codes are remembered this long after expiry so a replay still revokes tokens.
const CODE_MEMORY: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// The scopes an app registered with (Mastodon's `POST /api/v1/apps`); an
    /// authorization may ask for these only. `None`: any scope.
    pub scopes: Option<Vec<String>>,
}

/// What the user approved on the consent page; becomes an authorization code.
#[derive(Debug, Clone)]
pub struct Approval {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    /// `None` only where the dialect does not use PKCE (the Meta dialog).
    pub code_challenge: Option<String>,
    pub account_name: String,
    /// What the user chose on the Meta consent page (meta.rs).
    pub meta: Option<MetaConsent>,
    /// The access-token lifetime of this dialect (LinkedIn's 60 days); `None`: `token_ttl`.
    pub ttl: Option<u64>,
}

/// The Meta consent page's choices: the Pages the user manages directly, those of their
/// business portfolio, and the permissions they declined.
#[derive(Debug, Clone, Default)]
pub struct MetaConsent {
    pub pages: Vec<String>,
    pub business_pages: Vec<String>,
    pub declined: Vec<String>,
}

/// A Facebook Page a Meta grant gives access to, with its own Page access token.
#[derive(Debug, Clone)]
pub struct MetaPage {
    pub account: Account,
    pub token: String,
    /// Held through the user's business portfolio (listed by `owned_pages`, not `/me/accounts`).
    pub business: bool,
}

/// What a Meta grant holds beyond an ordinary one.
#[derive(Debug, Clone, Default)]
pub struct MetaGrant {
    pub pages: Vec<MetaPage>,
    pub declined: Vec<String>,
    pub business: Account,
}

/// The user behind a live access token, as the Meta personality reads it.
#[derive(Debug, Clone)]
pub struct UserView {
    pub account: Account,
    pub scope: String,
    pub meta: MetaGrant,
}

/// Meta's long-lived user tokens last about 60 days
/// (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).
pub const LONG_LIVED_TTL: u64 = 5_183_944;

#[derive(Debug)]
struct AuthCode {
    approval: Approval,
    expires_at: Instant,
    /// Set on first exchange; a second exchange revokes this grant.
    grant_id: Option<u64>,
}

#[derive(Debug)]
struct Grant {
    client_id: String,
    account: Account,
    scope: String,
    current_refresh: String,
    revoked: bool,
    meta: Option<MetaGrant>,
}

#[derive(Debug)]
struct AccessToken {
    grant_id: u64,
    /// `None` when the TTL is too large to represent; such a token never expires.
    expires_at: Option<Instant>,
    issued_at: Instant,
    /// Made by a long-lived exchange or renewal (Meta), so it may be renewed.
    long_lived: bool,
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidGrant(&'static str),
    InvalidScope(&'static str),
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub token_requests: u64,
    pub code_exchanges: u64,
    pub refreshes: u64,
    pub revocations: u64,
    /// Mastodon apps registered through `POST /api/v1/apps`.
    pub apps_registered: u64,
    /// Meta long-lived exchanges (`fb_exchange_token`, `ig_exchange_token`, `th_exchange_token`).
    pub long_lived_exchanges: u64,
    /// Long-lived token renewals (`ig_refresh_token`, `th_refresh_token`).
    pub renewals: u64,
}

#[derive(Debug)]
pub struct Store {
    clients: HashMap<String, Client>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<u64, Grant>,
    next_grant_id: u64,
    access_tokens: HashMap<String, AccessToken>,
    /// Every refresh token ever issued → its grant; only `Grant::current_refresh` is usable.
    refresh_tokens: HashMap<String, u64>,
    /// Meta Page access tokens → (grant, index of the Page in its `MetaGrant`).
    page_tokens: HashMap<String, (u64, usize)>,
    pub token_ttl: u64,
    /// How old a long-lived token must be before it may be renewed (Meta: 24 hours).
    pub min_renew_age: Duration,
    pub counters: Counters,
    pub faults: FaultQueues,
    pub posts: PostBook,
    /// Uploaded media (media.rs).
    pub media: crate::media::MediaBook,
    /// X's chunked uploads not finalized yet (x_media.rs).
    pub x_uploads: crate::x_media::Pending,
    /// LinkedIn images initialized and not uploaded yet (linkedin_media.rs).
    pub linkedin_uploads: crate::linkedin_media::Pending,
    pub linkedin_videos: crate::linkedin_video::Videos,
    /// Threads media containers not yet published (threads_media.rs).
    pub containers: HashMap<String, crate::threads_media::Container>,
    /// Bluesky sessions (bluesky.rs).
    pub bluesky: crate::bluesky::Sessions,
    /// The Vault personality's transit keys and AppRole tokens (vault.rs).
    pub vault: crate::vault::Vault,
}

impl Store {
    pub fn new(token_ttl: u64) -> Self {
        Self {
            clients: HashMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant_id: 1,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            page_tokens: HashMap::new(),
            token_ttl,
            min_renew_age: Duration::from_secs(24 * 3600),
            counters: Counters::default(),
            faults: FaultQueues::default(),
            posts: PostBook::default(),
            media: crate::media::MediaBook::default(),
            x_uploads: crate::x_media::Pending::default(),
            linkedin_uploads: crate::linkedin_media::Pending::default(),
            linkedin_videos: crate::linkedin_video::Videos::default(),
            containers: HashMap::new(),
            bluesky: Default::default(),
            vault: crate::vault::Vault::default(),
        }
    }

    /// Registers a client; the redirect URIs must already be validated.
    pub fn register_client(&mut self, name: String, redirect_uris: Vec<String>) -> Client {
        self.register_app(name, redirect_uris, None)
    }

    /// [`register_client`](Self::register_client) limited to `scopes`.
    pub fn register_app(&mut self, name: String, redirect_uris: Vec<String>, scopes: Option<Vec<String>>) -> Client {
        let client = Client { id: secrets::new_client_id(), secret: secrets::new_client_secret(), name, redirect_uris, scopes };
        self.clients.insert(client.id.clone(), client.clone());
        client
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id)
    }

    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> bool {
        self.clients
            .get(client_id)
            .is_some_and(|client| secrets::constant_time_eq(client.secret.as_bytes(), secret.as_bytes()))
    }

    /// Issues a single-use authorization code for an approved request.
    pub fn issue_code(&mut self, approval: Approval, now: Instant) -> String {
        self.codes.retain(|_, code| code.expires_at + CODE_MEMORY > now);
        let code = secrets::random_secret(CODE_PREFIX);
        self.codes.insert(code.clone(), AuthCode { approval, expires_at: now + CODE_LIFETIME, grant_id: None });
        code
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3 with the PKCE check of RFC 7636 §4.6).
    pub fn exchange_code(&mut self, client_id: &str, code: &str, redirect_uri: &str, verifier: Option<&str>, now: Instant) -> Result<TokenSet, TokenError> {
        let entry = self.codes.get(code).ok_or(TokenError::InvalidGrant("unknown authorization code"))?;
        if let Some(grant_id) = entry.grant_id {
            // RFC 6749 §4.1.2: a replayed code may mean it was stolen, so the tokens it bought go.
            self.revoke_grant(grant_id);
            return Err(TokenError::InvalidGrant("authorization code already used; tokens issued from it have been revoked"));
        }
        let approval = &entry.approval;
        if approval.client_id != client_id {
            return Err(TokenError::InvalidGrant("authorization code was issued to another client"));
        }
        if now >= entry.expires_at {
            return Err(TokenError::InvalidGrant("authorization code expired"));
        }
        if approval.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant("redirect_uri does not match the authorization request"));
        }
        // RFC 7636 §4.6: a code bought with a challenge needs its verifier; one bought
        // without (the Meta dialect) ignores any.
        if let Some(challenge) = &approval.code_challenge {
            match verifier {
                None => return Err(TokenError::InvalidGrant("code_verifier is required: the authorization used PKCE")),
                Some(verifier) if !secrets::pkce_s256_matches(verifier, challenge) => {
                    return Err(TokenError::InvalidGrant("code_verifier does not match code_challenge"));
                }
                Some(_) => {}
            }
        }
        let approval = approval.clone();
        let grant_id = self.next_grant_id;
        self.next_grant_id += 1;
        let refresh_token = secrets::random_secret(REFRESH_TOKEN_PREFIX);
        let meta = approval.meta.as_ref().map(|consent| self.meta_grant(grant_id, &approval.account_name, consent));
        let grant = Grant {
            client_id: client_id.to_owned(),
            account: Account::named(&approval.account_name),
            scope: approval.scope.clone(),
            current_refresh: refresh_token.clone(),
            revoked: false,
            meta,
        };
        let scope = grant.scope.clone();
        if let Some(entry) = self.codes.get_mut(code) {
            entry.grant_id = Some(grant_id);
        }
        self.grants.insert(grant_id, grant);
        self.refresh_tokens.insert(refresh_token.clone(), grant_id);
        self.counters.code_exchanges += 1;
        let ttl = approval.ttl.unwrap_or(self.token_ttl);
        Ok(self.token_set_for(grant_id, refresh_token, scope, now, ttl))
    }

    /// The `refresh_token` grant with rotation: every use returns a new refresh token and
    /// retires the old one. Presenting a retired one means two parties hold the grant
    /// (OAuth 2.0 Security BCP §4.14), so the whole grant is revoked.
    /// With `rotate` false the refresh token stays as it is (a provider whose refresh
    /// tokens are reusable, such as Reddit's personality).
    pub fn refresh(&mut self, client_id: &str, refresh_token: &str, scope: Option<&str>, rotate: bool, now: Instant) -> Result<TokenSet, TokenError> {
        let grant_id = *self.refresh_tokens.get(refresh_token).ok_or(TokenError::InvalidGrant("unknown refresh token"))?;
        let grant = self.grants.get(&grant_id).ok_or(TokenError::InvalidGrant("unknown refresh token"))?;
        if grant.revoked {
            return Err(TokenError::InvalidGrant("grant revoked"));
        }
        if grant.client_id != client_id {
            return Err(TokenError::InvalidGrant("refresh token was issued to another client"));
        }
        if grant.current_refresh != refresh_token {
            self.revoke_grant(grant_id);
            return Err(TokenError::InvalidGrant("refresh token reuse detected; grant revoked"));
        }
        let scope = match scope {
            None => grant.scope.clone(),
            Some(requested) => narrow_scope(&grant.scope, requested).ok_or(TokenError::InvalidScope("requested scope exceeds the granted scope"))?,
        };
        let new_refresh = if rotate { secrets::random_secret(REFRESH_TOKEN_PREFIX) } else { refresh_token.to_owned() };
        if let Some(grant) = self.grants.get_mut(&grant_id) {
            grant.current_refresh = new_refresh.clone();
        }
        self.refresh_tokens.insert(new_refresh.clone(), grant_id);
        self.counters.refreshes += 1;
        Ok(self.token_set(grant_id, new_refresh, scope, now))
    }

    fn token_set(&mut self, grant_id: u64, refresh_token: String, scope: String, now: Instant) -> TokenSet {
        self.token_set_for(grant_id, refresh_token, scope, now, self.token_ttl)
    }

    fn token_set_for(&mut self, grant_id: u64, refresh_token: String, scope: String, now: Instant, ttl: u64) -> TokenSet {
        let access_token = secrets::random_secret(ACCESS_TOKEN_PREFIX);
        let expires_at = now.checked_add(Duration::from_secs(ttl));
        self.access_tokens.insert(access_token.clone(), AccessToken { grant_id, expires_at, issued_at: now, long_lived: ttl == LONG_LIVED_TTL });
        TokenSet { access_token, refresh_token, expires_in: ttl, scope }
    }

    /// The Pages a Meta consent names, each with a Page access token of its own.
    fn meta_grant(&mut self, grant_id: u64, user: &str, consent: &MetaConsent) -> MetaGrant {
        let named = consent.pages.iter().map(|n| (n, false)).chain(consent.business_pages.iter().map(|n| (n, true)));
        let pages: Vec<MetaPage> = named
            .map(|(name, business)| MetaPage { account: Account::page(name), token: secrets::random_secret(PAGE_TOKEN_PREFIX), business })
            .collect();
        for (index, page) in pages.iter().enumerate() {
            self.page_tokens.insert(page.token.clone(), (grant_id, index));
        }
        MetaGrant { pages, declined: consent.declined.clone(), business: Account::page(&format!("{user} Business")) }
    }

    /// `grant_type=fb_exchange_token`: a live user token of this client becomes a
    /// long-lived one (about 60 days) for the same grant.
    pub fn exchange_long_lived(&mut self, client_id: &str, token: &str, now: Instant) -> Result<TokenSet, TokenError> {
        let grant_id = self.live_grant_of(token, now).ok_or(TokenError::InvalidGrant("the token to exchange is invalid or expired"))?;
        let grant = self.grants.get(&grant_id).ok_or(TokenError::InvalidGrant("the token to exchange is invalid or expired"))?;
        if grant.client_id != client_id {
            return Err(TokenError::InvalidGrant("the token to exchange was issued to another app"));
        }
        self.counters.long_lived_exchanges += 1;
        let scope = grant.scope.clone();
        Ok(self.token_set_for(grant_id, String::new(), scope, now, LONG_LIVED_TTL))
    }

    /// The app a live token was issued to (Instagram's and Threads' exchange name the app
    /// by its secret only).
    pub fn client_of_token(&self, token: &str, now: Instant) -> Option<&Client> {
        let grant = self.grants.get(&self.live_grant_of(token, now)?)?;
        self.clients.get(&grant.client_id)
    }

    /// `ig_refresh_token` / `th_refresh_token`: a live long-lived token at least `min_age`
    /// old becomes a fresh one of the same grant; the old one stays valid until it expires.
    pub fn renew_long_lived(&mut self, token: &str, min_age: Duration, now: Instant) -> Result<TokenSet, TokenError> {
        let grant_id = self.live_grant_of(token, now).ok_or(TokenError::InvalidGrant("the token to refresh is invalid or expired"))?;
        let access = self.access_tokens.get(token).ok_or(TokenError::InvalidGrant("the token to refresh is invalid or expired"))?;
        if !access.long_lived {
            return Err(TokenError::InvalidGrant("only a long-lived token can be refreshed"));
        }
        if now.saturating_duration_since(access.issued_at) < min_age {
            return Err(TokenError::InvalidGrant("the token must be at least 24 hours old to be refreshed"));
        }
        let scope = self.grants.get(&grant_id).map(|g| g.scope.clone()).unwrap_or_default();
        self.counters.renewals += 1;
        Ok(self.token_set_for(grant_id, String::new(), scope, now, LONG_LIVED_TTL))
    }

    fn live_grant_of(&self, token: &str, now: Instant) -> Option<u64> {
        let access = self.access_tokens.get(token)?;
        if access.expires_at.is_some_and(|expires_at| now >= expires_at) {
            return None;
        }
        self.grants.get(&access.grant_id).filter(|grant| !grant.revoked).map(|_| access.grant_id)
    }

    /// The user, scope and Pages behind a live user access token.
    pub fn user_for_access_token(&self, token: &str, now: Instant) -> Option<UserView> {
        let grant = self.grants.get(&self.live_grant_of(token, now)?)?;
        Some(UserView { account: grant.account.clone(), scope: grant.scope.clone(), meta: grant.meta.clone().unwrap_or_default() })
    }

    /// The Page behind a Page access token whose grant is still live.
    pub fn page_for_token(&self, token: &str) -> Option<&Account> {
        let (grant_id, index) = self.page_tokens.get(token)?;
        let grant = self.grants.get(grant_id).filter(|grant| !grant.revoked)?;
        grant.meta.as_ref()?.pages.get(*index).map(|page| &page.account)
    }

    /// RFC 7009: a refresh token takes its whole grant with it, an access token only
    /// itself. Tokens of other clients and unknown tokens are ignored (the caller still
    /// answers 200, so probing reveals nothing). Returns whether anything was revoked.
    pub fn revoke(&mut self, client_id: &str, token: &str) -> bool {
        self.counters.revocations += 1;
        let owned_by_client = |store: &Self, grant_id: u64| store.grants.get(&grant_id).is_some_and(|grant| grant.client_id == client_id);
        if let Some(&grant_id) = self.refresh_tokens.get(token) {
            if owned_by_client(self, grant_id) {
                return self.revoke_grant(grant_id);
            }
            return false;
        }
        if let Some(grant_id) = self.access_tokens.get(token).map(|access| access.grant_id) {
            if owned_by_client(self, grant_id) {
                return self.access_tokens.remove(token).is_some();
            }
        }
        false
    }

    /// Revokes a grant and every access token issued under it; returns whether it was live.
    fn revoke_grant(&mut self, grant_id: u64) -> bool {
        let Some(grant) = self.grants.get_mut(&grant_id) else { return false };
        let was_live = !grant.revoked;
        grant.revoked = true;
        self.access_tokens.retain(|_, access| access.grant_id != grant_id);
        was_live
    }

    pub fn revoke_all(&mut self, account: Option<&str>) {
        let ids: Vec<u64> = self.grants.iter().filter(|(_, g)| account.is_none_or(|name| g.account.name == name)).map(|(id, _)| *id).collect();
        for id in ids {
            self.revoke_grant(id);
        }
    }

    /// The account behind a live, unexpired access token.
    pub fn account_for_access_token(&self, token: &str, now: Instant) -> Option<&Account> {
        let access = self.access_tokens.get(token)?;
        if access.expires_at.is_some_and(|expires_at| now >= expires_at) {
            return None;
        }
        let grant = self.grants.get(&access.grant_id)?;
        (!grant.revoked).then_some(&grant.account)
    }

    pub fn live_grants(&self) -> usize {
        self.grants.values().filter(|grant| !grant.revoked).count()
    }
}

/// Space-separated scope normalised (RFC 6749 §3.3: order does not matter, so duplicates
/// and extra whitespace are dropped but the first-seen order is kept for display).
pub fn normalize_scope(scope: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for item in scope.split_ascii_whitespace() {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.join(" ")
}

/// `requested` if every item in it was granted (RFC 6749 §6), otherwise `None`.
fn narrow_scope(granted: &str, requested: &str) -> Option<String> {
    let granted: Vec<&str> = granted.split_ascii_whitespace().collect();
    let requested = normalize_scope(requested);
    requested.split_ascii_whitespace().all(|item| granted.contains(&item)).then_some(requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:3000/callback";

    fn store_with_client() -> (Store, Client) {
        let mut store = Store::new(3600);
        let client = store.register_client("Keyport".into(), vec![REDIRECT.into()]);
        (store, client)
    }

    fn approval(client: &Client) -> Approval {
        Approval {
            client_id: client.id.clone(),
            redirect_uri: REDIRECT.into(),
            scope: "profile posts.write".into(),
            code_challenge: Some(CHALLENGE.into()),
            account_name: "Sandbox Marketing".into(),
            meta: None,
            ttl: None,
        }
    }

    fn connect(store: &mut Store, client: &Client, now: Instant) -> TokenSet {
        let code = store.issue_code(approval(client), now);
        store.exchange_code(&client.id, &code, REDIRECT, Some(VERIFIER), now).expect("code exchange")
    }

    #[test]
    fn client_authentication_checks_the_secret() {
        let (store, client) = store_with_client();
        assert!(store.authenticate_client(&client.id, &client.secret));
        assert!(!store.authenticate_client(&client.id, "sbx_secret_wrong"));
        assert!(!store.authenticate_client("sbx_client_000000000000", &client.secret));
    }

    #[test]
    fn code_exchange_issues_tokens_for_the_account() {
        let (mut store, client) = store_with_client();
        let now = Instant::now();
        let tokens = connect(&mut store, &client, now);
        assert!(tokens.access_token.starts_with("sbx_at_"));
        assert!(tokens.refresh_token.starts_with("sbx_rt_"));
        assert_eq!((tokens.expires_in, tokens.scope.as_str()), (3600, "profile posts.write"));
        let account = store.account_for_access_token(&tokens.access_token, now).expect("live token");
        assert_eq!(account.name, "Sandbox Marketing");
        assert_eq!(account.username(), "sandbox-marketing");
        assert_eq!(store.live_grants(), 1);
        assert_eq!(store.counters.code_exchanges, 1);
    }

    #[test]
    fn code_exchange_rejects_mismatches() {
        let (mut store, client) = store_with_client();
        let other = store.register_client("Other".into(), vec![REDIRECT.into()]);
        let now = Instant::now();
        let code = store.issue_code(approval(&client), now);
        let grant = |reason| Err(TokenError::InvalidGrant(reason));
        assert_eq!(store.exchange_code(&client.id, "sbx_code_nope", REDIRECT, Some(VERIFIER), now).map(|_| ()), grant("unknown authorization code"));
        assert_eq!(store.exchange_code(&other.id, &code, REDIRECT, Some(VERIFIER), now).map(|_| ()), grant("authorization code was issued to another client"));
        assert_eq!(
            store.exchange_code(&client.id, &code, "http://127.0.0.1:3000/callback/", Some(VERIFIER), now).map(|_| ()),
            grant("redirect_uri does not match the authorization request")
        );
        assert_eq!(store.exchange_code(&client.id, &code, REDIRECT, Some("wrong-verifier"), now).map(|_| ()), grant("code_verifier does not match code_challenge"));
        assert_eq!(store.exchange_code(&client.id, &code, REDIRECT, Some(VERIFIER), now + CODE_LIFETIME).map(|_| ()), grant("authorization code expired"));
        assert!(store.exchange_code(&client.id, &code, REDIRECT, Some(VERIFIER), now).is_ok(), "failed attempts do not burn the code");
    }

    #[test]
    fn reusing_a_code_revokes_its_tokens() {
        let (mut store, client) = store_with_client();
        let now = Instant::now();
        let code = store.issue_code(approval(&client), now);
        let tokens = store.exchange_code(&client.id, &code, REDIRECT, Some(VERIFIER), now).unwrap();
        let replay = store.exchange_code(&client.id, &code, REDIRECT, Some(VERIFIER), now);
        assert_eq!(replay.map(|_| ()), Err(TokenError::InvalidGrant("authorization code already used; tokens issued from it have been revoked")));
        assert!(store.account_for_access_token(&tokens.access_token, now).is_none());
        assert_eq!(store.refresh(&client.id, &tokens.refresh_token, None, true, now).map(|_| ()), Err(TokenError::InvalidGrant("grant revoked")));
        assert_eq!(store.live_grants(), 0);
    }

    #[test]
    fn refresh_rotates_and_detects_reuse() {
        let (mut store, client) = store_with_client();
        let now = Instant::now();
        let first = connect(&mut store, &client, now);
        let second = store.refresh(&client.id, &first.refresh_token, None, true, now).expect("refresh");
        assert_ne!(second.refresh_token, first.refresh_token, "refresh tokens rotate");
        assert_ne!(second.access_token, first.access_token);
        assert!(store.account_for_access_token(&second.access_token, now).is_some());
        assert_eq!(store.counters.refreshes, 1);

        let reuse = store.refresh(&client.id, &first.refresh_token, None, true, now);
        assert_eq!(reuse.map(|_| ()), Err(TokenError::InvalidGrant("refresh token reuse detected; grant revoked")));
        assert!(store.account_for_access_token(&first.access_token, now).is_none());
        assert!(store.account_for_access_token(&second.access_token, now).is_none());
        assert_eq!(store.refresh(&client.id, &second.refresh_token, None, true, now).map(|_| ()), Err(TokenError::InvalidGrant("grant revoked")));
        assert_eq!(store.live_grants(), 0);
    }

    #[test]
    fn a_reusable_refresh_token_stays_valid() {
        let (mut store, client) = store_with_client();
        let now = Instant::now();
        let first = connect(&mut store, &client, now);
        for _ in 0..2 {
            let again = store.refresh(&client.id, &first.refresh_token, None, false, now).expect("the same refresh token works again");
            assert_eq!(again.refresh_token, first.refresh_token);
            assert!(store.account_for_access_token(&again.access_token, now).is_some());
        }
        assert_eq!(store.live_grants(), 1);
    }

    #[test]
    fn refresh_checks_client_and_scope() {
        let (mut store, client) = store_with_client();
        let other = store.register_client("Other".into(), vec![REDIRECT.into()]);
        let now = Instant::now();
        let tokens = connect(&mut store, &client, now);
        assert_eq!(store.refresh(&other.id, &tokens.refresh_token, None, true, now).map(|_| ()), Err(TokenError::InvalidGrant("refresh token was issued to another client")));
        assert_eq!(store.refresh(&client.id, "sbx_rt_unknown", None, true, now).map(|_| ()), Err(TokenError::InvalidGrant("unknown refresh token")));
        let too_wide = store.refresh(&client.id, &tokens.refresh_token, Some("admin"), true, now);
        assert!(matches!(too_wide, Err(TokenError::InvalidScope(_))));
        let narrowed = store.refresh(&client.id, &tokens.refresh_token, Some("posts.write"), true, now).expect("narrowed refresh");
        assert_eq!(narrowed.scope, "posts.write");
        let again = store.refresh(&client.id, &narrowed.refresh_token, None, true, now).expect("refresh keeps the grant's scope");
        assert_eq!(again.scope, "profile posts.write");
    }

    #[test]
    fn access_tokens_expire_with_the_ttl_in_force() {
        let (mut store, client) = store_with_client();
        store.token_ttl = 10;
        let now = Instant::now();
        let tokens = connect(&mut store, &client, now);
        assert_eq!(tokens.expires_in, 10);
        assert!(store.account_for_access_token(&tokens.access_token, now + Duration::from_secs(9)).is_some());
        assert!(store.account_for_access_token(&tokens.access_token, now + Duration::from_secs(10)).is_none());
        store.token_ttl = u64::MAX;
        let forever = connect(&mut store, &client, now);
        assert!(store.account_for_access_token(&forever.access_token, now + Duration::from_secs(86_400)).is_some());
    }

    #[test]
    fn revocation_follows_rfc_7009() {
        let (mut store, client) = store_with_client();
        let other = store.register_client("Other".into(), vec![REDIRECT.into()]);
        let now = Instant::now();
        let tokens = connect(&mut store, &client, now);
        let refreshed = store.refresh(&client.id, &tokens.refresh_token, None, true, now).unwrap();

        assert!(!store.revoke(&client.id, "sbx_at_unknown"));
        assert!(!store.revoke(&other.id, &tokens.access_token), "another client's token is left alone");
        assert!(store.revoke(&client.id, &tokens.access_token));
        assert!(store.account_for_access_token(&tokens.access_token, now).is_none());
        assert!(store.account_for_access_token(&refreshed.access_token, now).is_some(), "only that access token");

        assert!(store.revoke(&client.id, &refreshed.refresh_token));
        assert!(store.account_for_access_token(&refreshed.access_token, now).is_none(), "the whole grant");
        assert_eq!(store.live_grants(), 0);
        assert_eq!(store.counters.revocations, 4);
    }

    #[test]
    fn revoke_all_ends_every_grant() {
        let (mut store, client) = store_with_client();
        let now = Instant::now();
        let a = connect(&mut store, &client, now);
        let b = connect(&mut store, &client, now);
        assert_eq!(store.live_grants(), 2);
        store.revoke_all(None);
        assert_eq!(store.live_grants(), 0);
        assert!(store.account_for_access_token(&a.access_token, now).is_none());
        assert!(store.refresh(&client.id, &b.refresh_token, None, true, now).is_err());
    }

    #[test]
    fn scopes_are_normalised() {
        assert_eq!(normalize_scope("  a b  a\tc "), "a b c");
        assert_eq!(normalize_scope(""), "");
        assert_eq!(narrow_scope("a b c", "c a"), Some("c a".into()));
        assert_eq!(narrow_scope("a b", "a z"), None);
    }
}
