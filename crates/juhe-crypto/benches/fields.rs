//! The crypto of one Juhe field (an 18-byte ID number), per backend, beside OpenSSL measured
//! in the same run through Python's `cryptography` (`openssl_fields.py`).
//!
//! `cargo bench -p juhe-crypto --features aws-lc` (both RSA backends; without the feature,
//! `rust-rsa` alone). Numbers: docs/benchmarks.md. With `-- --profile-encrypt` it only
//! encrypts fields with the aws-lc backend for 5 s, for `perf record`.
//!
//! Rounds interleave the implementations, so drift on a shared machine hits them alike; each
//! figure is the median of the per-round means.

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use juhe_crypto::rsa_backend::RsaBackend;
use juhe_crypto::{AesKey, RsaPadding, RsaPrivateKeyOn, aes_cbc_encrypt, aes_ecb_encrypt, md5_sign};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const ROUNDS: usize = 7;
/// Calls per round for the fast operations; RSA decryption gets a twentieth.
const CALLS: usize = 2000;
const FIELD: &[u8] = b"44030519900101001X";

/// Mean microseconds of `calls` calls.
fn mean_micros(calls: usize, mut operation: impl FnMut()) -> f64 {
    operation();
    let start = Instant::now();
    for _ in 0..calls {
        operation();
    }
    start.elapsed().as_secs_f64() / calls as f64 * 1e6
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One round of RSA on backend `B`: (operation, µs).
fn rsa_round<B: RsaBackend>(key: &RsaPrivateKeyOn<B>) -> Vec<(&'static str, f64)> {
    let public = key.public_key();
    let mut rng = rand_core::OsRng;
    let mut out = Vec::new();
    for (name, padding) in [("oaep", RsaPadding::OaepSha1), ("pkcs1", RsaPadding::Pkcs1v15)] {
        let encrypt = mean_micros(CALLS, || {
            black_box(public.encrypt_with_rng(padding, &mut rng, black_box(FIELD)).unwrap());
        });
        let sealed = public.encrypt_with_rng(padding, &mut rng, FIELD).unwrap();
        let decrypt = mean_micros(CALLS / 20, || {
            black_box(key.decrypt(padding, black_box(&sealed)).unwrap());
        });
        out.push((if name == "oaep" { "rsa_encrypt_oaep" } else { "rsa_encrypt_pkcs1" }, encrypt));
        out.push((if name == "oaep" { "rsa_decrypt_oaep" } else { "rsa_decrypt_pkcs1" }, decrypt));
    }
    out
}

/// One round of OpenSSL, or nothing when Python's `cryptography` is missing.
fn openssl_round() -> Vec<(String, f64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/openssl_fields.py");
    let Ok(output) = Command::new("python3").args([script, DATA, &CALLS.to_string()]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, micros) = line.split_once(' ')?;
            Some((name.to_owned(), micros.parse().ok()?))
        })
        .collect()
}

/// AES and the sign, RustCrypto (what the crate uses) and, with `aws-lc`, AWS-LC's AES.
fn symmetric_round() -> Vec<(&'static str, f64)> {
    let key = AesKey::from_openid("JHopenid0123456789abcdef01234567");
    let iv = AesKey::from_openid("iv");
    let mut out = vec![
        (
            "aes_ecb_encrypt (RustCrypto)",
            mean_micros(CALLS * 10, || {
                black_box(aes_ecb_encrypt(&key, black_box(FIELD)));
            }),
        ),
        (
            "aes_cbc_encrypt (RustCrypto)",
            mean_micros(CALLS * 10, || {
                black_box(aes_cbc_encrypt(&key, &iv, black_box(FIELD)));
            }),
        ),
        (
            "md5_sign (RustCrypto)",
            mean_micros(CALLS * 10, || {
                black_box(md5_sign(black_box(&[
                    "JHopenid",
                    "key",
                    "张三",
                    "44030519900101001X",
                    "13912345678",
                ])));
            }),
        ),
    ];
    #[cfg(feature = "aws-lc")]
    out.extend(aws_lc_aes::round(&key, &iv));
    out
}

#[cfg(feature = "aws-lc")]
mod aws_lc_aes {
    use aws_lc_rs::cipher::{AES_128, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
    use aws_lc_rs::iv::FixedLength;
    use juhe_crypto::{AesKey, base64_encode};
    use std::hint::black_box;

    use super::{CALLS, FIELD, mean_micros};

    /// The same work as `aes_*_encrypt`: key set-up, PKCS#7, encryption, base64.
    pub(super) fn round(key: &AesKey, iv: &AesKey) -> Vec<(&'static str, f64)> {
        let ecb = mean_micros(CALLS * 10, || {
            let sealing =
                PaddedBlockEncryptingKey::ecb_pkcs7(UnboundCipherKey::new(&AES_128, key.as_bytes()).unwrap())
                    .unwrap();
            let mut buffer = black_box(FIELD).to_vec();
            sealing.less_safe_encrypt(&mut buffer, EncryptionContext::None).unwrap();
            black_box(base64_encode(&buffer));
        });
        let cbc = mean_micros(CALLS * 10, || {
            let sealing =
                PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, key.as_bytes()).unwrap())
                    .unwrap();
            let iv: [u8; 16] = *iv.as_bytes();
            let mut buffer = black_box(FIELD).to_vec();
            sealing.less_safe_encrypt(&mut buffer, EncryptionContext::Iv128(FixedLength::from(iv))).unwrap();
            black_box(base64_encode(&buffer));
        });
        vec![("aes_ecb_encrypt (AWS-LC)", ecb), ("aes_cbc_encrypt (AWS-LC)", cbc)]
    }
}

/// What AWS-LC's RSA costs under our calls: the OAEP encryption through aws-lc-rs alone (its
/// key wrapper built once, the output buffer reused, no base64) and the bare public-key
/// operation, measured as a PKCS#1 SHA-256 signature check (one modular exponentiation by
/// 65537 and a hash of 18 bytes), the operation `openssl speed rsa2048` reports as verify.
#[cfg(feature = "aws-lc")]
mod aws_lc_floor {
    use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
    use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
    use std::hint::black_box;

    use super::{CALLS, FIELD, mean_micros};

    /// The DER inside a PEM file's armour.
    pub(super) fn pem_der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        juhe_crypto::base64_decode(&body).expect("PEM body")
    }

    pub(super) fn round(pkcs8: &[u8], spki: &[u8]) -> Vec<(&'static str, f64)> {
        let oaep = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki).unwrap()).unwrap();
        let mut sealed = vec![0; oaep.ciphertext_size()];
        let alone = mean_micros(CALLS, || {
            black_box(oaep.encrypt(&OAEP_SHA1_MGF1SHA1, black_box(FIELD), &mut sealed, None).unwrap());
        });
        let pair = RsaKeyPair::from_pkcs8(pkcs8).unwrap();
        let mut signed = vec![0; pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pair.sign(&signature::RSA_PKCS1_SHA256, &rng, FIELD, &mut signed).unwrap();
        let public =
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref());
        let verify = mean_micros(CALLS, || {
            public.verify(black_box(FIELD), black_box(&signed)).unwrap();
        });
        vec![("rsa_encrypt_oaep_alone", alone), ("rsa_public_op_verify", verify)]
    }
}

fn main() {
    let pem = std::fs::read_to_string(format!("{DATA}/rsa_private.pem")).expect("test key");
    #[cfg(feature = "rust-rsa")]
    let rust = RsaPrivateKeyOn::<juhe_crypto::rsa_backend::RustRsa>::from_pem(&pem).expect("key");
    #[cfg(feature = "aws-lc")]
    let aws = RsaPrivateKeyOn::<juhe_crypto::rsa_backend::AwsLc>::from_pem(&pem).expect("key");

    #[cfg(feature = "aws-lc")]
    if std::env::args().any(|arg| arg == "--profile-encrypt") {
        // For `perf record`: nothing but the aws-lc backend's OAEP field encryption.
        let public = aws.public_key();
        let mut rng = rand_core::OsRng;
        let start = Instant::now();
        while start.elapsed().as_secs() < 5 {
            black_box(public.encrypt_with_rng(RsaPadding::OaepSha1, &mut rng, black_box(FIELD)).unwrap());
        }
        return;
    }
    // (column, operation) -> per-round samples
    let mut samples: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
    let mut record = |column: &str, results: Vec<(String, f64)>| {
        for (operation, micros) in results {
            samples.entry((operation, column.to_owned())).or_default().push(micros);
        }
    };
    let named = |v: Vec<(&'static str, f64)>| v.into_iter().map(|(n, m)| (n.to_owned(), m)).collect();
    for round in 0..ROUNDS {
        eprintln!("round {}/{ROUNDS}", round + 1);
        #[cfg(feature = "rust-rsa")]
        record("rust-rsa", named(rsa_round(&rust)));
        #[cfg(feature = "aws-lc")]
        record("aws-lc", named(rsa_round(&aws)));
        #[cfg(feature = "aws-lc")]
        record(
            "aws-lc",
            named(aws_lc_floor::round(
                &aws_lc_floor::pem_der(&pem),
                &aws_lc_floor::pem_der(&aws.public_key().to_pem().expect("public PEM")),
            )),
        );
        record("OpenSSL", openssl_round());
        record("", named(symmetric_round()));
    }
    report(&samples);
}

fn report(samples: &std::collections::BTreeMap<(String, String), Vec<f64>>) {
    let get = |operation: &str, column: &str| {
        samples.get(&(operation.to_owned(), column.to_owned())).map(|s| median(s.clone()))
    };
    let show = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}×", a / b),
        _ => "—".to_owned(),
    };
    println!("RSA-2048, one 18-byte field, base64 included; µs per call, median of {ROUNDS} rounds");
    println!(
        "(`_alone`: the library's call only, no base64; `public_op_verify`: a PKCS#1 signature check)\n"
    );
    println!("| operation | rust-rsa | aws-lc | OpenSSL (Python) | rust-rsa / OpenSSL | aws-lc / OpenSSL |");
    println!("|---|---|---|---|---|---|");
    for operation in [
        "rsa_encrypt_oaep",
        "rsa_encrypt_pkcs1",
        "rsa_decrypt_oaep",
        "rsa_decrypt_pkcs1",
        "rsa_encrypt_oaep_alone",
        "rsa_public_op_verify",
    ] {
        let (rust, aws, openssl) =
            (get(operation, "rust-rsa"), get(operation, "aws-lc"), get(operation, "OpenSSL"));
        println!(
            "| {operation} | {} | {} | {} | {} | {} |",
            show(rust),
            show(aws),
            show(openssl),
            ratio(rust, openssl),
            ratio(aws, openssl)
        );
    }
    println!("\nAES-128 and the MD5 sign of the same field; µs per call\n");
    println!("| operation | µs |");
    println!("|---|---|");
    for ((operation, column), _) in samples.iter().filter(|((_, column), _)| column.is_empty()) {
        println!("| {operation} | {:.3} |", get(operation, column).unwrap_or(f64::NAN));
    }
}
