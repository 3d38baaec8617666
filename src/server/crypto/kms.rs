//! A root key held in AWS KMS: Keyport asks KMS to `Encrypt` a data key and to `Decrypt` it
//! again, under a symmetric KMS key that never leaves KMS. The data key's version is bound as
//! the encryption context (`{"keyport data key": "v{n}"}`), as the local root binds it as
//! associated data. KMS rotates its key material itself and keeps the old material for
//! decrypting, so nothing is rewrapped here when it does.
//!
//! API: https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html and
//! https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html (`KeyId` named on
//! Decrypt as AWS recommends, so a data key wrapped under another KMS key is refused);
//! encryption context: https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html.
//! Through `aws-sdk-kms`, with rustls (ring) and credentials from the environment.

use super::root::RootError;
use crate::server::config::{EncryptionKey, KmsConfig};
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::{DisplayErrorContext, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use secrecy::ExposeSecret;
use std::time::Duration;
use zeroize::Zeroizing;

const CONTEXT_KEY: &str = "keyport data key";

pub struct Kms {
    client: aws_sdk_kms::Client,
    key_id: String,
    region: String,
}

impl Kms {
    pub fn new(config: KmsConfig) -> Self {
        let credentials = Credentials::new(
            config.access_key_id,
            config.secret_access_key.expose_secret(),
            config.session_token.map(|t| t.expose_secret().to_owned()),
            None,
            "keyport environment",
        );
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let timeouts = aws_sdk_kms::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_timeout(Duration::from_secs(10))
            .build();
        let mut builder = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .credentials_provider(credentials)
            .http_client(http)
            .timeout_config(timeouts);
        if let Some(endpoint) = config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self { client: aws_sdk_kms::Client::from_conf(builder.build()), key_id: config.key_id, region: config.region }
    }

    /// What the keys panel shows: the key and its region, never a credential.
    pub fn describe(&self) -> String {
        format!("AWS KMS key {} in {}", self.key_id, self.region)
    }

    pub async fn wrap(&self, version: u32, key: &EncryptionKey) -> Result<Vec<u8>, RootError> {
        let answer = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(key.bytes().to_vec()))
            .encryption_context(CONTEXT_KEY, format!("v{version}"))
            .send()
            .await
            .map_err(|e| RootError::Unavailable(format!("KMS refused Encrypt ({})", DisplayErrorContext(&e))))?;
        let blob = answer.ciphertext_blob.ok_or_else(|| RootError::Unavailable("KMS's Encrypt answer has no CiphertextBlob".into()))?;
        Ok(blob.into_inner())
    }

    pub async fn unwrap(&self, version: u32, wrapped: &[u8]) -> Result<EncryptionKey, RootError> {
        let refused = RootError::Refused { version };
        let answer = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .encryption_context(CONTEXT_KEY, format!("v{version}"))
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            // Another KMS key, another version's context, changed bytes: the same refusal as
            // the local root's. Anything else (network, throttling, access) is an outage.
            Err(SdkError::ServiceError(e)) if matches!(e.err(), DecryptError::InvalidCiphertextException(_) | DecryptError::IncorrectKeyException(_)) => return Err(refused),
            Err(e) => return Err(RootError::Unavailable(format!("KMS refused Decrypt ({})", DisplayErrorContext(&e)))),
        };
        let plaintext = Zeroizing::new(answer.plaintext.map(Blob::into_inner).unwrap_or_default());
        let key: [u8; 32] = plaintext.as_slice().try_into().map_err(|_| refused)?;
        Ok(EncryptionKey::from_bytes(key))
    }
}
