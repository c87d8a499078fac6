//! Every one of Juhe's 11 endpoints through the gateway, each request made by `juhe-proto`
//! with the team's credentials and sent by curl: the verdict (or Juhe's code) is the one the
//! sandbox gives the same check sent with the account's credentials straight to it.

use juhe_crypto::RsaPublicKey;
use juhe_gateway::keys::TeamRules;
use juhe_proto::{
    AnyCheck, BaseUrls, Credentials, DecodeError, Endpoint, FaceCheck, IdCardCheck, Outcome, Product,
    Protocol, Telecom2Check, Telecom3Check, decode,
};
use juhe_sandbox::Identity;
use juhe_verify::Mode;

use crate::rig::{Rig, run};

fn protocol(key: &str, openid: &str, public_key_pem: &str, base_url: &str) -> Protocol {
    let credentials = Credentials::new(key)
        .unwrap()
        .with_openid(openid)
        .unwrap()
        .with_rsa_public_key(RsaPublicKey::parse(public_key_pem).unwrap());
    Protocol::new(credentials).with_base_urls(BaseUrls::single(base_url).unwrap())
}

fn check_of(product: Product, p: &Identity) -> AnyCheck {
    match product {
        Product::IdCard => IdCardCheck::new(&p.name, &p.idcard).unwrap().into(),
        Product::Telecom2 => Telecom2Check::new(&p.idcard, &p.mobile).unwrap().into(),
        Product::Telecom3 => Telecom3Check::new(&p.name, &p.idcard, &p.mobile).unwrap().into(),
        Product::Face => FaceCheck::new(&p.name, &p.idcard, &p.mobile, p.face_image.clone()).unwrap().into(),
    }
}

/// Sends `request` with curl; the response as `http` has it.
fn send(dir: &std::path::Path, request: &http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
    let body = dir.join("body");
    std::fs::write(&body, request.body()).unwrap();
    let mut args =
        vec!["-sS".to_owned(), "-X".into(), request.method().to_string(), request.uri().to_string()];
    for (name, value) in request.headers() {
        args.extend(["-H".to_owned(), format!("{name}: {}", value.to_str().unwrap())]);
    }
    if !request.body().is_empty() {
        args.extend(["--data-binary".to_owned(), format!("@{}", body.display())]);
    }
    let out = run("curl", &args.iter().map(String::as_str).collect::<Vec<_>>());
    http::Response::builder().status(200).body(out.into_bytes()).unwrap()
}

fn verdict(check: &AnyCheck, response: &http::Response<Vec<u8>>) -> Result<String, i64> {
    match decode(check, response) {
        Ok(outcome) => Ok(format!("{:?}", outcome.verdict())),
        Err(DecodeError::Service(e)) => Err(e.code.code()),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn every_endpoint_and_mode_answers_as_juhe_does() {
    let (rig, issued) = Rig::start("endpoints", Mode::Aes, &[("all", TeamRules::open())]);
    let team = &issued[0];
    let through = protocol(&team.key, &team.openid, &team.rsa_public_key_pem, &rig.base_url);
    let s = &rig.sandbox;
    let direct = protocol(s.key(), s.openid(), s.rsa_public_key_pem(), s.base_url());
    let mut seen = 0;
    for (n, endpoint) in Endpoint::ALL.into_iter().enumerate() {
        let info = endpoint.info();
        let check = check_of(info.product, rig.person(30 + n));
        let via_gateway = through.encode(&check, info.mode).unwrap();
        assert_eq!(via_gateway.endpoint, endpoint);
        let got = verdict(&check, &send(&rig.dir, &via_gateway.request));
        let expected = verdict(&check, &send(&rig.dir, &direct.encode(&check, info.mode).unwrap().request));
        assert_eq!(got, expected, "{endpoint}");
        assert_eq!(got, Ok("Match".to_owned()), "{endpoint}: a person the sandbox knows");
        seen += 1;
    }
    assert_eq!(seen, 11);
}
