//! No key, openid, full name, ID number, mobile or image byte shows up in tracing output (at
//! TRACE), in the `Debug` of any public type, or in the `Display` of any error.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::fixtures::runtime;
use juhe_proto::{Credentials, FaceImage, IdCardNumber, MobileNumber, PersonName, Protocol, RsaPublicKey};
use juhe_sandbox::{Identity, Sandbox, magic};
use juhe_verify::{ClientBuilder, FaceCheck, IdCardCheck, Mode, RetryPolicy, Telecom2Check, Telecom3Check};

const KEY: &str = "leakcheck-key-5f3a9c1e7b2d4f6a8c0e";
const OPENID: &str = "JHleakcheck-openid-77e1c0ffee42";
const NAME: &str = "欧阳娜娜";
const IDCARD: &str = "11010519491231002X";
const MOBILE: &str = "13987654321";
/// A JPEG header then bytes that spell a marker, so a leak of the image is easy to find.
/// A JPEG header of 32 x 32 pixels whose comment segment holds a marker to look for.
const IMAGE: &[u8] = b"\xFF\xD8\xFF\xFE\x00\x1dIMAGE-BYTES-MARKER-9d8c7b6a\xFF\xC0\x00\x11\x08\x00\x20\x00\x20\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xFF\xD9";

/// Everything written by tracing, at every level, from every thread.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(Arc::clone(&log));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    let image_b64 = juhe_crypto_free_base64(IMAGE);
    for secret in [KEY, OPENID, NAME, IDCARD, MOBILE, "IMAGE-BYTES-MARKER", &image_b64] {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

/// Base64 without pulling in another crate: the proto crate's face image does it.
fn juhe_crypto_free_base64(bytes: &[u8]) -> String {
    FaceImage::from_bytes(bytes.to_vec()).unwrap().to_base64()
}

fn sandbox() -> Sandbox {
    let person = Identity {
        name: NAME.into(),
        idcard: IDCARD.into(),
        mobile: MOBILE.into(),
        carrier: "移动".into(),
        province: "北京市".into(),
        city: "北京市".into(),
        face_image: IMAGE.to_vec(),
    };
    Sandbox::builder().credentials(KEY, OPENID).identities([person]).start().unwrap()
}

fn builder(sandbox: &Sandbox) -> ClientBuilder {
    ClientBuilder::new()
        .key(KEY)
        .openid(OPENID)
        .rsa_public_key(sandbox.rsa_public_key_pem())
        .base_url(sandbox.base_url())
        .timeouts(Duration::from_secs(1), Duration::from_millis(400))
        .retry_policy(RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(10)))
}

#[test]
fn checks_in_every_mode_log_nothing_personal_at_trace() {
    let log = captured();
    let sandbox = sandbox();
    let blocking = builder(&sandbox).build_blocking().unwrap();
    let client = builder(&sandbox).build().unwrap();
    let telecom3 = Telecom3Check::new(NAME, IDCARD, MOBILE).unwrap();
    for mode in Mode::ALL {
        let outcome = blocking.verify_in(mode, &telecom3).unwrap();
        assert_clean("an outcome", &format!("{outcome:?}"));
        runtime().block_on(client.verify_in(mode, &telecom3)).unwrap();
    }
    for mode in [Mode::Plain, Mode::Aes, Mode::Rsa] {
        blocking.verify_in(mode, &IdCardCheck::new(NAME, IDCARD).unwrap()).unwrap();
        blocking.verify_in(mode, &Telecom2Check::new(IDCARD, MOBILE).unwrap()).unwrap();
    }
    let face = blocking.face(&FaceCheck::new(NAME, IDCARD, MOBILE, IMAGE.to_vec()).unwrap()).unwrap();
    assert_eq!(face.result.map(|r| r.code()), Some(100));
    // Failures log too: a retried provider error, a timeout.
    let provider =
        Telecom3Check::new(magic::PROVIDER_ERROR.name, magic::PROVIDER_ERROR.idcard, MOBILE).unwrap();
    assert!(blocking.telecom3(&provider).is_err());
    let slow = Telecom3Check::new(NAME, magic::SLOW.idcard, MOBILE).unwrap();
    assert!(blocking.telecom3(&slow).is_err());

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("juhe.check") && text.contains("retrying"),
        "tracing captured nothing useful:\n{text}"
    );
    assert!(text.contains("欧***"), "the masked name should be there:\n{text}");
    assert_clean("tracing at TRACE", &text);
}

#[test]
fn debug_of_public_types_is_masked() {
    let sandbox = sandbox();
    let rsa = RsaPublicKey::parse(sandbox.rsa_public_key_pem()).unwrap();
    let credentials = Credentials::new(KEY).unwrap().with_openid(OPENID).unwrap().with_rsa_public_key(rsa);
    let debug = [
        format!("{credentials:?}"),
        format!("{:?}", Protocol::new(credentials.clone())),
        format!("{:?}", builder(&sandbox)),
        format!("{:?}", builder(&sandbox).build_blocking().unwrap()),
        format!("{:?}", builder(&sandbox).build().unwrap()),
        format!("{:?}", PersonName::parse(NAME).unwrap()),
        format!("{}", PersonName::parse(NAME).unwrap()),
        format!("{:?}", IdCardNumber::parse(IDCARD).unwrap()),
        format!("{}", IdCardNumber::parse(IDCARD).unwrap()),
        format!("{:?}", MobileNumber::parse(MOBILE).unwrap()),
        format!("{}", MobileNumber::parse(MOBILE).unwrap()),
        format!("{:?}", FaceImage::from_bytes(IMAGE.to_vec()).unwrap()),
        format!("{:?}", IdCardCheck::new(NAME, IDCARD).unwrap()),
        format!("{:?}", Telecom2Check::new(IDCARD, MOBILE).unwrap()),
        format!("{:?}", Telecom3Check::new(NAME, IDCARD, MOBILE).unwrap()),
        format!("{:?}", FaceCheck::new(NAME, IDCARD, MOBILE, IMAGE.to_vec()).unwrap()),
        format!("{:?}", sandbox.identities().iter().find(|p| p.idcard == IDCARD).unwrap()),
        format!("{sandbox:?}"),
    ];
    for text in &debug {
        assert_clean("Debug", text);
    }
    let client = builder(&sandbox).build_blocking().unwrap();
    client.telecom3(&Telecom3Check::new(NAME, IDCARD, MOBILE).unwrap()).unwrap();
    assert_clean("the request log", &format!("{:?} {:?}", sandbox.requests(), sandbox.ledger()));
}

#[test]
fn errors_of_every_kind_are_masked() {
    let sandbox = sandbox();
    let client = builder(&sandbox).build_blocking().unwrap();
    let mut errors = Vec::new();
    errors.push(IdCardCheck::new(NAME, "11010519491231002Y").map(|_| ()).map_err(juhe_verify::Error::from));
    errors.push(Telecom3Check::new(NAME, IDCARD, "1398765432").map(|_| ()).map_err(juhe_verify::Error::from));
    errors.push(IdCardCheck::new("欧阳娜娜1", IDCARD).map(|_| ()).map_err(juhe_verify::Error::from));
    let check = Telecom3Check::new(NAME, IDCARD, MOBILE).unwrap();
    errors.push(client.verify_in(Mode::Signed, &IdCardCheck::new(NAME, IDCARD).unwrap()).map(|_| ()));
    errors.push(builder(&sandbox).key(format!("{KEY} with a space")).build_blocking().map(|_| ()));
    errors.push(builder(&sandbox).rsa_public_key("not a key").build_blocking().map(|_| ()));
    errors.push(
        builder(&sandbox)
            .base_url("http://127.0.0.1:1")
            .build_blocking()
            .unwrap()
            .telecom3(&check)
            .map(|_| ()),
    );
    for m in [magic::NO_RECORD, magic::MALFORMED_BODY, magic::SLOW, magic::CLOSE_CONNECTION, magic::HTTP_500]
    {
        let check = Telecom3Check::new(NAME, m.idcard, MOBILE).unwrap();
        errors.push(client.telecom3(&check).map(|_| ()));
    }
    assert_eq!(errors.len(), 12);
    for error in errors {
        let error = error.unwrap_err();
        let mut text = format!("{error} / {error:?}");
        let mut source = std::error::Error::source(&error);
        while let Some(s) = source {
            text += &format!(" / {s}");
            source = s.source();
        }
        assert_clean("an error", &text);
    }
}
