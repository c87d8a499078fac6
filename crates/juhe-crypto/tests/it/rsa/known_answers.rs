// Our decryption opens OpenSSL's randomized RSA ciphertexts (`tests/data/make_vectors.sh`).
// (Included once per backend.)

use juhe_crypto::RsaPadding;

use crate::known_answers::rows;

const PRIVATE_PEM: &str = include_str!("../../data/rsa_private.pem");

#[test]
fn openssl_rsa_ciphertexts_open() {
    let key = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    for (kind, padding) in [("rsa_oaep", RsaPadding::OaepSha1), ("rsa_pkcs1", RsaPadding::Pkcs1v15)] {
        for row in rows(kind) {
            assert_eq!(key.decrypt(padding, row[1]).unwrap(), row[0].as_bytes(), "{kind} {:?}", row[0]);
        }
    }
}

#[test]
fn the_wrong_padding_does_not_open() {
    let key = RsaPrivateKey::from_pem(PRIVATE_PEM).unwrap();
    let oaep = &rows("rsa_oaep")[0];
    assert!(key.decrypt(RsaPadding::Pkcs1v15, oaep[1]).is_err());
}
