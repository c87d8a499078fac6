// Our RSA ciphertexts open in OpenSSL, when the `openssl` command is installed. (The committed
// vectors in `known_answers.rs` check the other direction and always run.)

use std::io::Write;
use std::process::{Command, Stdio};

use juhe_crypto::{RsaPadding, base64_decode};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn openssl_available() -> bool {
    Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success())
}

fn openssl_decrypt(padding_opts: &[&str], ciphertext: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["pkeyutl", "-decrypt", "-inkey", &format!("{DATA}/rsa_private.pem")])
        .args(padding_opts.iter().flat_map(|o| ["-pkeyopt", o]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ciphertext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl could not decrypt");
    out.stdout
}

#[test]
fn our_rsa_ciphertexts_open_in_openssl() {
    if !openssl_available() {
        eprintln!("openssl not installed: skipping (the committed vectors still ran)");
        return;
    }
    let key = RsaPublicKey::parse(include_str!("../../data/rsa_public_spki.pem")).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let message = "欧阳·娜娜 44030519900101001X".as_bytes();
    let cases: [(RsaPadding, &[&str]); 2] = [
        (RsaPadding::OaepSha1, &["rsa_padding_mode:oaep", "rsa_oaep_md:sha1", "rsa_mgf1_md:sha1"]),
        (RsaPadding::Pkcs1v15, &["rsa_padding_mode:pkcs1"]),
    ];
    for (padding, opts) in cases {
        let sealed = key.encrypt_with_rng(padding, &mut rng, message).unwrap();
        assert_eq!(openssl_decrypt(opts, &base64_decode(&sealed).unwrap()), message);
    }
}
