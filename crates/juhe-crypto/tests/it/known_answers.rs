//! Known-answer vectors made by OpenSSL (`tests/data/make_vectors.sh`): our output must equal
//! OpenSSL's byte for byte. (Opening OpenSSL's randomized RSA ciphertexts is in
//! `rsa/known_answers.rs`, once per backend.)

use juhe_crypto::{AesKey, aes_cbc_decrypt, aes_cbc_encrypt, aes_ecb_decrypt, aes_ecb_encrypt, md5_sign};

const VECTORS: &str = include_str!("../data/vectors.tsv");

/// The vectors of one kind, without the kind column.
pub(crate) fn rows(kind: &str) -> Vec<Vec<&'static str>> {
    let rows: Vec<Vec<&str>> = VECTORS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|cols| cols[0] == kind)
        .map(|cols| cols[1..].to_vec())
        .collect();
    assert!(!rows.is_empty(), "no `{kind}` vectors");
    rows
}

#[test]
fn openid_keys_match_openssl() {
    for row in rows("openid_key") {
        assert_eq!(AesKey::from_openid(row[0]).as_bytes(), row[1].as_bytes(), "openid {:?}", row[0]);
    }
}

#[test]
fn signs_match_openssl() {
    for row in rows("sign") {
        assert_eq!(md5_sign(&row[..5]), row[5]);
    }
}

#[test]
fn aes_ecb_matches_openssl_both_ways() {
    for row in rows("ecb") {
        let key = AesKey::from_openid(row[0]);
        assert_eq!(aes_ecb_encrypt(&key, row[1].as_bytes()), row[2], "plaintext {:?}", row[1]);
        assert_eq!(aes_ecb_decrypt(&key, row[2]).unwrap(), row[1].as_bytes());
    }
}

#[test]
fn aes_cbc_matches_openssl_both_ways() {
    for row in rows("cbc") {
        let key = AesKey::from_bytes(row[0].as_bytes()).unwrap();
        let iv = AesKey::from_openid(row[1]);
        assert_eq!(aes_cbc_encrypt(&key, &iv, row[2].as_bytes()), row[3], "plaintext {:?}", row[2]);
        assert_eq!(aes_cbc_decrypt(&key, &iv, row[3]).unwrap(), row[2].as_bytes());
    }
}
