//! Types shared by the server and the browser: what a platform is, what makes one valid,
//! and the errors a user may see. Constructors only build valid values.

mod account;
pub mod calendar;
mod credentials;
mod enums;
mod error;
mod id;
mod import;
mod keys;
mod media;
mod oauth;
mod platform;
mod platform_list;
mod posts;
mod slots;

pub use account::{
    check_password, parse_email, parse_token_expiry, safe_return_path, ApiToken, AuditEvent, AuditPage, NewApiToken, TokenScope, User, UsersPage, Viewer,
    EMAIL_MAX, PASSWORD_MIN, TOKEN_DAYS_MAX,
};
pub use credentials::{Credentials, Encryption, KeyVersionStatus, PlatformDetails, SecretStatus, SecretText};
pub use enums::{AuthType, Category, Choice, EncryptionState, Role, SecretField, Status};
pub(crate) use enums::wire_enum;
pub use error::{AppError, FieldError, FieldErrors};
pub use id::parse_id;
pub use import::{ImportProblem, ImportReport};
pub use keys::{parse_key_version, AttentionAction, AttentionItem, AttentionPage, JobState, KeyPanel, KeyState, RotationJob};
pub use media::{file_problem, media_problem, size, Attached, Media, MediaLimits, MediaPick, MediaType, ALT_MAX, MEDIA_PER_POST_MAX};
pub use oauth::{parse_board_id, parse_subreddit, Account, Board, OauthSettings, OauthSettingsForm, OauthView, PageChoice, PagePick, ProviderChoice, ProviderKey};
pub use slots::{weekdays, PostingSlots};
pub use posts::{char_count, shown, AccountText, Delivery, DeliveryStatus, Post, PostAction, PostFilter, PostForm, PostState, PublishTarget, Shown, ValidPost};
pub use platform::{Platform, PlatformDraft, PlatformForm, ValidPlatform, NAME_MAX};
pub use platform_list::{FacetCounts, FacetKey, ListParams, PlatformFilter, PlatformList, PlatformQuery, PlatformSort, PAGE_DEFAULT, PAGE_MAX, SEARCH_COUNT_MAX};
