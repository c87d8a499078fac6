//! The protocol core of Juhe's (聚合数据) identity-verification APIs, with no I/O.
//!
//! **One job:** turn a check into the exact HTTP request Juhe expects, and turn Juhe's HTTP
//! response into a typed outcome or a typed error. Sending is someone else's job (the
//! `juhe-transport` crate, or your own HTTP client); this crate never opens a socket, spawns
//! a task or reads a clock for anything but ID card birth dates.
//!
//! | product | check | endpoints (modes) |
//! |---|---|---|
//! | ID card + name | [`IdCardCheck`] | `idcard/query` (plain), `queryEncry` (AES), `queryEncryV2` (RSA) |
//! | mobile + ID card | [`Telecom2Check`] | `telecom2Cucc/query`, `queryEncry`, `queryRV2` |
//! | mobile + name + ID card | [`Telecom3Check`] | `telecom3/query`, `verify` (signed), `queryEncry`, `queryRV2` |
//! | face + mobile + name + ID card | [`FaceCheck`] | `verifyface_mobile/query` (plain) |
//!
//! # A round trip
//! ```
//! use juhe_proto::{CivilDate, Credentials, Mode, Outcome, Protocol, Telecom3Check, Verdict};
//!
//! // Validation happens here, before anything can be sent or billed.
//! // `new` reads the clock (feature `clock`); `new_on` takes today's date.
//! let today = CivilDate { year: 2026, month: 11, day: 23 };
//! let check = Telecom3Check::new_on("张三", "11010519491231002X", "+86 139 1234 5678", today)?;
//!
//! let protocol = Protocol::new(Credentials::new("your-api-key")?.with_openid("your-openid")?);
//! let encoded = protocol.encode(&check, Mode::Signed)?;
//! assert_eq!(encoded.request.uri(), "https://apis.juhe.cn/telecom3/verify");
//!
//! // … send `encoded.request` with any HTTP client, then:
//! let response = http::Response::new(
//!     r#"{"reason":"成功","error_code":0,"result":{"res":"1","rescode":"11","orderid":"J1"}}"#.as_bytes().to_vec(),
//! );
//! let outcome = protocol.decode(&check, &response)?;
//! assert_eq!(outcome.verdict(), Verdict::Match);
//! assert_eq!(outcome.order_id(), Some("J1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Money and retries
//! `error_code` 0 is billed once ([`is_billed`]); every other code is not. Every documented
//! code carries a [`RetryClass`] saying whether retrying can help. A transport must never
//! retry a request that may have been processed unless its user opted in:
//! [`DecodeError::may_be_billed`] tells; an [`EncodeError`] was never sent.
//!
//! # Privacy
//! Names, ID numbers, mobiles, images, keys and openids never appear unmasked in `Debug`,
//! `Display` or error messages: `张*`, `110***********002X`, `139****5678`.
//!
//! # The product registry
//! The products, their endpoints, hosts, parameters, result fields and code tables are data
//! ([`docs/api/*.md`](https://github.com/juhe-rs/juhe-rs/blob/main/docs/api)); `cargo xtask
//! codegen` turns them into [`Product`], [`Endpoint`], [`Param`], [`ResultField`], the
//! [`ErrorCode`] constants and each product's check struct. When the product is known only at
//! run time (a CSV row, a command line, a request to a server), [`AnyCheck::parse`] reads its
//! fields from a [`PersonalFields`] map, with the same validation; an `AnyCheck` is a check
//! itself, answered with an [`AnyOutcome`].
//!
//! # The server side
//! With the `server` feature, `juhe_proto::server` reads a request as Juhe does (parameters,
//! decryption, the sign, validation) into an `AnyCheck`, or a refusal with the product's code
//! and reason: the sandbox serves Juhe's API through it, and a gateway can.
//!
//! # Features
#![doc = document_features::document_features!()]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod account;
mod base_url;
mod billing;
mod check;
mod codes;
mod credentials;
mod decode;
mod endpoint;
mod error;
mod form;
#[allow(missing_docs)]
mod generated;
mod outcome;
pub mod pace;
mod param;
mod protocol;
#[cfg(feature = "server")]
mod reply;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
mod subject;
mod validation;

pub use account::Account;
pub use base_url::BaseUrls;
pub use billing::{Billing, NotABillingWord};
pub use check::{Check, OutcomeReader, PersonalFields, PersonalValue};
pub use codes::{CodeInfo, ErrorCode, ResultInfo, RetryClass, Verdict, is_billed};
pub use codes::{FaceResult, Telecom3Rescode};
pub use credentials::{Credential, Credentials};
pub use decode::{decode, decode_as};
pub use endpoint::{EndpointInfo, FieldEncoding, Mode};
pub use error::{AnswerError, DecodeError, EncodeError, MissingCredential, ServiceError, UnsupportedMode};
pub use form::{decode_form, encode_form};
// The registry's types: `Product`, `Endpoint`, `Host`, `Param`, `ResultField`, and every
// product's check with `AnyCheck` and `AnyOutcome`.
pub use generated::*;
pub use outcome::{
    Carrier, FaceOutcome, IdCardOutcome, MatchOutcome, Outcome, Provenance, ResultFields, Reuse,
    Telecom2Outcome, Telecom3Outcome,
};
pub use param::{ParamInput, ParamKind};
pub use protocol::{CONTENT_TYPE, EncodedRequest, Protocol};
pub use subject::{Subject, SubjectKey};
// Every validated type (`PersonName`, `IdCardNumber`, … and a new parameter's), `Field`,
// `Problem`, `ValidationError` and `masking`.
pub use validation::*;

pub use juhe_crypto::{CryptoError, RsaPadding, RsaPublicKey};

/// An HTTP request as this crate builds it.
pub type HttpRequest = http::Request<Vec<u8>>;
/// An HTTP response as this crate reads it.
pub type HttpResponse = http::Response<Vec<u8>>;

/// The README's example (crates.io's page), compiled and run as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
