//! Encrypt and decrypt of a 200-byte token through the keyring (envelope encoding, AAD,
//! OS nonce included), against the raw AES-256-GCM primitive as the floor.
//! Run: `cargo bench --features ssr --bench envelope`.

use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    Aes256Gcm,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyport::{
    domain::SecretField,
    server::{
        config::EncryptionKey,
        crypto::{Keyring, SecretSlot},
    },
};
use std::{collections::BTreeMap, hint::black_box};
use uuid::Uuid;

fn envelope(c: &mut Criterion) {
    let token = [0x5au8; 200];
    let keyring = Keyring::new(1, &BTreeMap::from([(1, EncryptionKey::from_bytes([7; 32]))]));
    let slot = SecretSlot::platform_secret(Uuid::now_v7(), SecretField::AccessToken);
    let sealed = keyring.seal(&token, &slot);
    let cipher = Aes256Gcm::new_from_slice(&[7; 32]).unwrap();
    let nonce = Array::from([3u8; 12]);
    let aad = slot.aad(1);
    let mut raw = token;
    let tag = cipher.encrypt_inout_detached(&nonce, aad.as_bytes(), raw.as_mut_slice().into()).unwrap();

    let mut group = c.benchmark_group("token_200_bytes");
    group.throughput(Throughput::Bytes(token.len() as u64));
    group.bench_function("keyring_seal", |b| b.iter(|| keyring.seal(black_box(&token), black_box(&slot))));
    group.bench_function("keyring_open", |b| b.iter(|| keyring.open(black_box(&sealed), black_box(&slot)).unwrap()));
    group.bench_function("raw_aead_encrypt", |b| {
        b.iter(|| {
            let mut buf = black_box(token);
            cipher.encrypt_inout_detached(&nonce, aad.as_bytes(), buf.as_mut_slice().into()).unwrap()
        })
    });
    group.bench_function("raw_aead_decrypt", |b| {
        b.iter(|| {
            let mut buf = black_box(raw);
            cipher.decrypt_inout_detached(&nonce, aad.as_bytes(), buf.as_mut_slice().into(), &tag).unwrap();
            buf
        })
    });
    group.finish();
}

criterion_group!(benches, envelope);
criterion_main!(benches);
