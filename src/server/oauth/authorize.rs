//! The provider's authorization URL for one platform: scopes, the catalog's extra
//! parameters, a random state and (where the provider takes it) a PKCE S256 challenge.

use super::{catalog::Pkce, client::Endpoints};
use oauth2::{url::Url, CsrfToken, PkceCodeChallenge, Scope};
use secrecy::SecretString;

/// Where to send the user, and what to remember until they come back.
pub struct Authorization {
    pub url: Url,
    pub state: String,
    pub verifier: Option<String>,
}

pub fn authorization(endpoints: &Endpoints, secret: Option<&SecretString>, redirect_uri: &str) -> Result<Authorization, String> {
    let oauth = endpoints.client(secret, redirect_uri)?;
    let mut request = oauth.authorize_url(CsrfToken::new_random);
    for scope in &endpoints.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for (name, value) in &endpoints.provider.authorize_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    if let Some(param) = &endpoints.provider.client_id_param {
        request = request.add_extra_param(param.clone(), endpoints.client_id.clone());
    }
    let verifier = if endpoints.provider.pkce == Pkce::Unsupported {
        None
    } else {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(verifier.secret().to_owned())
    };
    let (url, state) = request.url();
    Ok(Authorization { url: rewrite_scope_separator(url, &endpoints.provider.scope_separator), state: state.secret().to_owned(), verifier })
}

/// Most providers take space-separated scopes; some (TikTok, Facebook) want commas.
fn rewrite_scope_separator(mut url: Url, separator: &str) -> Url {
    if separator == " " {
        return url;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "scope" { v.split(' ').collect::<Vec<_>>().join(separator) } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_separated_scopes_for_providers_that_want_them() {
        let url = Url::parse("https://p.example/auth?client_id=a&scope=x+y&state=s").unwrap();
        let rewritten = rewrite_scope_separator(url.clone(), ",");
        assert_eq!(rewritten.query_pairs().find(|(k, _)| k == "scope").unwrap().1, "x,y");
        assert_eq!(rewrite_scope_separator(url.clone(), " "), url);
    }
}
