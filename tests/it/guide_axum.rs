//! The example of docs/guides/axum-service.md, verbatim, and its tests as the guide shows
//! them: an axum service with one shared async client and a SQLite ledger, driven against
//! the sandbox; each error becomes the HTTP status the guide promises, and the sandbox's own
//! ledger says what was billed.

// --- example: service ---
use axum::Router;
use axum::extract::{Json, State};
use axum::http::StatusCode;
use axum::routing::post;
use juhe_verify::{Client, Error, ErrorKind, Outcome, Resend, Telecom3Check, Verdict};
use serde::Deserialize;
use serde_json::{Value, json};

/// What the service's callers send.
#[derive(Deserialize)]
struct VerifyRequest {
    name: String,
    idcard: String,
    mobile: String,
}

/// The service: one `Client` for every request (its connections, ledger and the key's pace
/// are shared; cloning it is cheap).
fn app(client: Client) -> Router {
    Router::new().route("/v1/verify", post(verify)).with_state(client)
}

async fn verify(
    State(client): State<Client>,
    Json(request): Json<VerifyRequest>,
) -> (StatusCode, Json<Value>) {
    let check = match Telecom3Check::new(&request.name, &request.idcard, &request.mobile) {
        Ok(check) => check,
        // The message names the field and never holds its value; nothing was sent.
        Err(invalid) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "error": invalid.to_string() })));
        }
    };
    // A plain `await`: if the caller hangs up, axum drops this future, and with a ledger the
    // check still finishes on its own task and its billed answer is kept for the next asker.
    match client.telecom3(&check).await {
        Ok(outcome) => (
            StatusCode::OK,
            Json(json!({
                "match": outcome.verdict == Verdict::Match,
                "order_id": outcome.order_id,
                "reused": outcome.reused().is_some(),
            })),
        ),
        Err(error) => {
            let body = json!({ "error": error.to_string(), "may_be_billed": error.may_be_billed() });
            (status_of(&error), Json(body))
        }
    }
}

/// What an error means to the service's caller, decided by what it says about money.
fn status_of(error: &Error) -> StatusCode {
    if error.may_be_billed() || error.resend() == Resend::RisksPayingTwice {
        // Sent with no answer (now or earlier): it may have been billed. Do not resend it
        // blindly; Juhe's order records or `juhe ledger pending` tell what happened.
        return StatusCode::BAD_GATEWAY;
    }
    match error.kind() {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        // Juhe refused this person's data with a product's own code (no record, a bad
        // parameter): the same request gets the same answer.
        ErrorKind::Service
            if error.resend() == Resend::Never && error.code().and_then(|c| c.product()).is_some() =>
        {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        // A budget spent, or the key's pace taken: nothing sent, try later.
        ErrorKind::Skipped => StatusCode::TOO_MANY_REQUESTS,
        // Nothing billed, and another try may pass: Juhe or its provider busy, the network.
        _ if error.resend() == Resend::Safe => StatusCode::SERVICE_UNAVAILABLE,
        // The key, the account or the ledger needs an operator.
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
// --- end ---

// --- example: test ---
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use juhe_sandbox::{Sandbox, magic};
use juhe_verify::ledger::Ledger;
use tower::ServiceExt;

/// The service on a sandbox with a fresh SQLite ledger: the test's own account, no money.
fn test_app(sandbox: &Sandbox, ledger_path: &std::path::Path, max_per_day: u64) -> Router {
    let client = Client::builder()
        .account(&sandbox.account())
        .ledger(Ledger::open_sqlite(ledger_path).unwrap())
        .reuse_within(Duration::from_secs(24 * 3600))
        .max_billed_per_day(max_per_day)
        .build()
        .unwrap();
    app(client)
}

/// A fresh directory for one test's ledger.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("juhe-e2e-guide-axum-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One POST to the router, as a real request would arrive; its status and JSON body.
async fn post_verify(app: &Router, name: &str, idcard: &str, mobile: &str) -> (StatusCode, Value) {
    let body = json!({ "name": name, "idcard": idcard, "mobile": mobile }).to_string();
    let request =
        Request::post("/v1/verify").header("content-type", "application/json").body(Body::from(body));
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_is_verified_once_and_then_answered_from_the_ledger() {
    let sandbox = Sandbox::start().unwrap();
    let dir = tempdir("verified");
    let app = test_app(&sandbox, &dir.join("ledger.sqlite"), 100);
    let p = &sandbox.identities()[0];

    let (status, first) = post_verify(&app, &p.name, &p.idcard, &p.mobile).await;
    assert_eq!((status, &first["match"], &first["reused"]), (StatusCode::OK, &json!(true), &json!(false)));
    let (status, again) = post_verify(&app, &p.name, &p.idcard, &p.mobile).await;
    assert_eq!((status, &again["reused"]), (StatusCode::OK, &json!(true)));
    assert_eq!(again["order_id"], first["order_id"], "the paying check's order");
    assert_eq!(sandbox.ledger().billed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_error_gets_its_status_and_costs_what_the_guide_says() {
    let sandbox = Sandbox::start().unwrap();
    let dir = tempdir("errors");
    let app = test_app(&sandbox, &dir.join("ledger.sqlite"), 100);

    // A bad checksum: refused here, the field named, its value not echoed, nothing sent.
    let (status, body) = post_verify(&app, "张三", "110105194912310021", "13912345678").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("idcard") && !error.contains("110105194912310021"), "{error}");
    assert_eq!(sandbox.ledger().requests, 0);

    let m = magic::NO_RECORD;
    assert_eq!(post_verify(&app, m.name, m.idcard, m.mobile).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let m = magic::PROVIDER_ERROR;
    assert_eq!(post_verify(&app, m.name, m.idcard, m.mobile).await.0, StatusCode::SERVICE_UNAVAILABLE);

    // Billed, and the connection closed before the answer: 502, and asking again does not pay
    // a second time.
    let m = magic::CLOSE_CONNECTION;
    let (status, body) = post_verify(&app, m.name, m.idcard, m.mobile).await;
    assert_eq!((status, &body["may_be_billed"]), (StatusCode::BAD_GATEWAY, &json!(true)));
    let billed = sandbox.ledger().billed;
    assert_eq!(post_verify(&app, m.name, m.idcard, m.mobile).await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(sandbox.ledger().billed, billed, "not sent again");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_daily_budget_is_429_and_sends_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let dir = tempdir("budget");
    let app = test_app(&sandbox, &dir.join("ledger.sqlite"), 1);
    let (p, q) = (&sandbox.identities()[1], &sandbox.identities()[2]);
    assert_eq!(post_verify(&app, &p.name, &p.idcard, &p.mobile).await.0, StatusCode::OK);
    let (status, body) = post_verify(&app, &q.name, &q.idcard, &q.mobile).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(sandbox.ledger().requests, 1);
}
// --- end ---

const GUIDE: &str = include_str!("../../docs/guides/axum-service.md");
const THIS_FILE: &str = include_str!("guide_axum.rs");

#[test]
fn the_guide_shows_the_examples_verbatim() {
    for name in ["service", "test"] {
        crate::guides::assert_shown(GUIDE, THIS_FILE, name, "docs/guides/axum-service.md");
    }
}
