//! The closed sets a platform is described by. Each value has a stable wire name (stored in
//! the database, used in URLs and JSON) and a label for people.


/// What every closed set offers, so one piece of UI (a filter, a select) can serve them all.
pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    fn all() -> &'static [Self];
    /// The wire name.
    fn wire(self) -> &'static str;
    /// The label for people.
    fn text(self) -> &'static str;
}

/// Declares a closed set of values with its wire names and labels, so that parsing,
/// printing and listing can never disagree.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $wire:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant,)+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The stable name used in the database, URLs and JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }

            /// The name shown to people.
            pub const fn label(self) -> &'static str {
                match self { $(Self::$variant => $label,)+ }
            }

            /// Every wire name, comma separated, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl $crate::domain::Choice for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn wire(self) -> &'static str {
                self.as_str()
            }
            fn text(self) -> &'static str {
                self.label()
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($wire => Ok(Self::$variant),)+
                    other => Err(format!(
                        "unknown {} \"{}\": expected one of {}",
                        $what, other.chars().take(40).collect::<String>(), Self::expected()
                    )),
                }
            }
        }

        /// In the API's OpenAPI document: a string, one of the wire names.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// What kind of service an integration is.
    Category, "category" {
        Social => "social", "Social";
        Payment => "payment", "Payment";
        Shipping => "shipping", "Shipping";
        Email => "email", "Email";
        Sms => "sms", "SMS";
        Analytics => "analytics", "Analytics";
        Crm => "crm", "CRM";
        Storage => "storage", "Storage";
        Communication => "communication", "Communication";
        Authentication => "authentication", "Authentication";
        Other => "other", "Other";
    }
}

wire_enum! {
    /// How Keyport authenticates to the integration.
    AuthType, "auth type" {
        Oauth2 => "oauth2", "OAuth 2.0";
        Oauth1 => "oauth1", "OAuth 1.0a";
        ApiKey => "api_key", "API key";
        Bearer => "bearer", "Bearer token";
        Basic => "basic", "Basic auth";
    }
}

wire_enum! {
    /// Whether the integration is in use and healthy.
    Status, "status" {
        Active => "active", "Active";
        Inactive => "inactive", "Inactive";
        Error => "error", "Error";
        Pending => "pending", "Pending";
    }
}

impl Default for Category {
    fn default() -> Self {
        Self::Social
    }
}
impl Default for AuthType {
    fn default() -> Self {
        Self::Oauth2
    }
}
impl Default for Status {
    fn default() -> Self {
        Self::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_parse_and_serde() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{}\"", c.as_str()));
        }
        for a in AuthType::ALL {
            assert_eq!(a.as_str().parse::<AuthType>().unwrap(), *a);
            assert_eq!(serde_json::to_string(a).unwrap(), format!("\"{}\"", a.as_str()));
        }
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
    }

    #[test]
    fn unknown_value_names_the_allowed_ones() {
        let err = "tiktok".parse::<Category>().unwrap_err();
        assert!(err.contains("unknown category \"tiktok\""), "{err}");
        assert!(err.contains("social, payment"), "{err}");
        assert!("Social".parse::<Category>().is_err(), "wire names are case-sensitive");
    }

    #[test]
    fn defaults_match_the_registry_rules() {
        assert_eq!(Category::default(), Category::Social);
        assert_eq!(AuthType::default(), AuthType::Oauth2);
        assert_eq!(Status::default(), Status::Active);
    }
}

wire_enum! {
    /// Which credential a stored secret is.
    SecretField, "secret field" {
        AccessToken => "access_token", "Access token";
        RefreshToken => "refresh_token", "Refresh token";
        ClientSecret => "client_secret", "Client secret";
        ApiKey => "api_key", "API key";
        Password => "password", "Password";
    }
}

wire_enum! {
    /// The encryption badge of a platform: the state of the secrets stored for it.
    EncryptionState, "encryption state" {
        Current => "current", "Encrypted (current key)";
        OldKey => "old_key", "Encrypted with an old key";
        NoSecret => "none", "No secret";
        Failed => "failed", "Decryption failed";
    }
}

impl SecretField {
    /// The name as it reads inside a sentence ("no API key is stored").
    pub fn noun(self) -> &'static str {
        match self {
            SecretField::AccessToken => "access token",
            SecretField::RefreshToken => "refresh token",
            SecretField::ClientSecret => "client secret",
            SecretField::ApiKey => "API key",
            SecretField::Password => "password",
        }
    }
}

impl AuthType {
    /// The secrets a platform of this auth type may hold.
    pub fn secret_fields(self) -> &'static [SecretField] {
        use SecretField::*;
        match self {
            AuthType::Oauth2 | AuthType::Oauth1 => &[AccessToken, RefreshToken, ClientSecret],
            AuthType::ApiKey => &[ApiKey],
            AuthType::Bearer => &[AccessToken],
            AuthType::Basic => &[Password],
        }
    }

    /// The one secret an admin types in for this auth type. OAuth 2.0 platforms take their
    /// client secret; their tokens come from the connect flow, never from a form.
    pub fn typed_secret(self) -> Option<SecretField> {
        match self {
            AuthType::ApiKey => Some(SecretField::ApiKey),
            AuthType::Bearer => Some(SecretField::AccessToken),
            AuthType::Basic => Some(SecretField::Password),
            AuthType::Oauth2 => Some(SecretField::ClientSecret),
            AuthType::Oauth1 => None,
        }
    }
}

wire_enum! {
    /// What a user may do: admins everything, marketers connect accounts and publish.
    Role, "role" {
        Admin => "admin", "Admin";
        Marketer => "marketer", "Marketer";
    }
}
