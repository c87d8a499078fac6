//! What a billed answer says, product by product.

use serde_json::{Map, Value};

use crate::{FaceResult, ResultField, Telecom3Rescode, Verdict};

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The `result` object of a billed answer, read leniently: numbers may come as strings,
/// strings as numbers, unknown fields are ignored.
#[derive(Debug, Clone, Default)]
pub struct ResultFields(Map<String, Value>);

impl ResultFields {
    /// The fields of a `result` object (or of a record of one that a ledger kept).
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// The fields as Juhe sent them.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// An integer given as a number (`1`, `1.0`) or a string (`"1"`, `" 1 "`).
    pub(crate) fn int(&self, field: ResultField) -> Option<i64> {
        match self.0.get(field.wire_name())? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A float given as a number or a string.
    pub(crate) fn float(&self, field: ResultField) -> Option<f64> {
        match self.0.get(field.wire_name())? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
            _ => None,
        }
    }

    /// A non-empty string given as a string or a number.
    pub(crate) fn text(&self, field: ResultField) -> Option<String> {
        self.text_at(field.wire_name())
    }

    /// [`text`](Self::text) under a key the tables do not list (a misspelling Juhe sends).
    pub(crate) fn text_at(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Where an outcome came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provenance {
    /// Juhe answered this check (and billed it) after `attempts` sends: 1 unless an attempt
    /// that could not have been billed was retried.
    Answered {
        /// How many times the request was sent.
        attempts: u32,
    },
    /// A ledger's record of Juhe's earlier billed answer to the same question: nothing was
    /// sent and nothing billed for this check.
    Reused(Reuse),
}

/// The earlier check whose answer was reused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reuse {
    /// Juhe's order number of the earlier, billed check.
    pub order_id: Option<String>,
    /// When the earlier check was sent.
    pub checked_at: std::time::SystemTime,
    /// The ledger's number for the earlier check.
    pub entry: i64,
}

impl Reuse {
    /// The record of an earlier check, as a ledger found it.
    pub fn new(order_id: Option<String>, checked_at: std::time::SystemTime, entry: i64) -> Self {
        Self { order_id, checked_at, entry }
    }
}

/// What every outcome tells.
pub trait Outcome: sealed::Sealed + std::fmt::Debug + Clone + Send + Sync + 'static {
    /// Match, mismatch, or a result value the documents do not list.
    fn verdict(&self) -> Verdict;
    /// Juhe's order number: what to quote to Juhe's support about a charge.
    fn order_id(&self) -> Option<&str>;
    /// Juhe's `reason` text.
    fn reason(&self) -> &str;
    /// `field` as Juhe sent it (a number for [`ResultField::is_number`] fields, text
    /// otherwise); `Null` when it was not sent or is not one of this outcome's fields.
    fn value(&self, field: ResultField) -> Value;
    /// Whether Juhe answered this check or a ledger's earlier answer was reused.
    fn provenance(&self) -> &Provenance;
    /// The outcome with its provenance replaced (clients set it; `from_result` gives
    /// one attempt).
    fn with_provenance(self, provenance: Provenance) -> Self;

    /// How many times this check's request was sent: 0 when an earlier answer was reused.
    fn attempts(&self) -> u32 {
        match self.provenance() {
            Provenance::Answered { attempts } => *attempts,
            Provenance::Reused(_) => 0,
        }
    }

    /// The earlier check whose answer this is, when it was reused from a ledger (and so
    /// not billed now).
    fn reused(&self) -> Option<&Reuse> {
        match self.provenance() {
            Provenance::Reused(reuse) => Some(reuse),
            Provenance::Answered { .. } => None,
        }
    }
}

/// What `from_result` gives: one send, answered.
const ANSWERED_ONCE: Provenance = Provenance::Answered { attempts: 1 };

fn text_value(text: Option<&str>) -> Value {
    text.map_or(Value::Null, |t| Value::String(t.to_owned()))
}

/// The outcome of the ID card + name and mobile + ID card checks: match or not.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MatchOutcome {
    /// `res` 1 → match, 2 → mismatch.
    pub verdict: Verdict,
    /// The raw `res`.
    pub res: Option<i64>,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// Juhe's `reason`.
    pub reason: String,
    /// Answered now, or reused from a ledger.
    pub provenance: Provenance,
}

/// The outcome of [`IdCardCheck`](crate::IdCardCheck).
pub type IdCardOutcome = MatchOutcome;
/// The outcome of [`Telecom2Check`](crate::Telecom2Check).
pub type Telecom2Outcome = MatchOutcome;

/// The outcome of [`Telecom3Check`](crate::Telecom3Check).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Telecom3Outcome {
    /// Match only when `res` is 1 and `rescode`, if given, is 11; `Unknown` when either is a
    /// value the documents do not list or they disagree.
    pub verdict: Verdict,
    /// The raw `res`.
    pub res: Option<i64>,
    /// Which field differs (`rescode` 11/21/22/23/24).
    pub rescode: Option<Telecom3Rescode>,
    /// Juhe's `resmsg`.
    pub message: Option<String>,
    /// The mobile's carrier (`type`).
    pub carrier: Option<Carrier>,
    /// The mobile's province.
    pub province: Option<String>,
    /// The mobile's city.
    pub city: Option<String>,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// Juhe's `reason`.
    pub reason: String,
    /// Answered now, or reused from a ledger.
    pub provenance: Provenance,
}

/// The outcome of [`FaceCheck`](crate::FaceCheck).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FaceOutcome {
    /// Match only for `res` 100.
    pub verdict: Verdict,
    /// The result, 100–116.
    pub result: Option<FaceResult>,
    /// Juhe's `resmsg`.
    pub message: Option<String>,
    /// The face similarity score (`score`), when the face was compared.
    pub score: Option<f64>,
    /// The mobile's carrier (`type`).
    pub carrier: Option<Carrier>,
    /// Juhe's order number.
    pub order_id: Option<String>,
    /// Juhe's `reason`.
    pub reason: String,
    /// Answered now, or reused from a ledger.
    pub provenance: Provenance,
}

/// A mobile carrier, as Juhe names it in `type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Carrier {
    /// 移动.
    ChinaMobile,
    /// 联通.
    ChinaUnicom,
    /// 电信.
    ChinaTelecom,
    /// 广电.
    ChinaBroadnet,
    /// Any other name, kept as it came.
    Other(String),
}

impl Carrier {
    /// Reads Juhe's name (`移动`, `中国移动`, …).
    pub fn from_name(name: &str) -> Self {
        [
            ("移动", Self::ChinaMobile),
            ("联通", Self::ChinaUnicom),
            ("电信", Self::ChinaTelecom),
            ("广电", Self::ChinaBroadnet),
        ]
        .into_iter()
        .find(|(n, _)| name.contains(n))
        .map_or_else(|| Self::Other(name.to_owned()), |(_, c)| c)
    }

    /// The name Juhe uses: `移动`, `联通`, `电信`, `广电`, or the unknown name.
    pub fn name(&self) -> &str {
        match self {
            Self::ChinaMobile => "移动",
            Self::ChinaUnicom => "联通",
            Self::ChinaTelecom => "电信",
            Self::ChinaBroadnet => "广电",
            Self::Other(name) => name,
        }
    }
}

fn verdict_of_res(res: Option<i64>) -> Verdict {
    match res {
        Some(1) => Verdict::Match,
        Some(2) => Verdict::Mismatch,
        _ => Verdict::Unknown,
    }
}

impl sealed::Sealed for MatchOutcome {}
impl sealed::Sealed for Telecom3Outcome {}
impl sealed::Sealed for FaceOutcome {}

macro_rules! common_accessors {
    () => {
        fn verdict(&self) -> Verdict {
            self.verdict
        }
        fn order_id(&self) -> Option<&str> {
            self.order_id.as_deref()
        }
        fn reason(&self) -> &str {
            &self.reason
        }
        fn provenance(&self) -> &Provenance {
            &self.provenance
        }
        fn with_provenance(self, provenance: Provenance) -> Self {
            Self { provenance, ..self }
        }
    };
}

impl MatchOutcome {
    /// Reads the `result` object of a billed answer. Never fails: what is missing stays
    /// `None` and what is unknown is kept raw.
    pub fn from_result(result: &ResultFields, reason: String) -> Self {
        let res = result.int(ResultField::Res);
        Self {
            verdict: verdict_of_res(res),
            res,
            order_id: result.text(ResultField::OrderId),
            reason,
            provenance: ANSWERED_ONCE,
        }
    }
}

impl Outcome for MatchOutcome {
    common_accessors!();
    fn value(&self, field: ResultField) -> Value {
        match field {
            ResultField::Res => self.res.into(),
            ResultField::OrderId => text_value(self.order_id.as_deref()),
            _ => Value::Null,
        }
    }
}

impl Telecom3Outcome {
    /// Reads the `result` object of a billed answer. Never fails: what is missing stays
    /// `None` and what is unknown is kept raw.
    pub fn from_result(result: &ResultFields, reason: String) -> Self {
        let res = result.int(ResultField::Res);
        let rescode = result.int(ResultField::Rescode).map(Telecom3Rescode::new);
        // A match only when every field sent for the verdict is documented and they agree
        // (docs/protocol.md, "Answers"): `res` is required, `rescode` optional.
        let verdict = match (verdict_of_res(res), rescode.map(|r| r.info().map(|i| i.verdict))) {
            (Verdict::Unknown, _) | (_, Some(None)) => Verdict::Unknown,
            (by_res, None) => by_res,
            (by_res, Some(Some(by_rescode))) if by_res == by_rescode => by_res,
            _ => Verdict::Unknown,
        };
        Self {
            verdict,
            res,
            rescode,
            message: result.text(ResultField::Resmsg).or_else(|| result.text_at("resmg")),
            carrier: result.text(ResultField::Type).map(|t| Carrier::from_name(&t)),
            province: result.text(ResultField::Province),
            city: result.text(ResultField::City),
            order_id: result.text(ResultField::OrderId),
            reason,
            provenance: ANSWERED_ONCE,
        }
    }
}

impl Outcome for Telecom3Outcome {
    common_accessors!();
    fn value(&self, field: ResultField) -> Value {
        match field {
            ResultField::Res => self.res.into(),
            ResultField::Rescode => self.rescode.map_or(Value::Null, |r| Value::String(r.code().to_string())),
            ResultField::Resmsg => text_value(self.message.as_deref()),
            ResultField::Type => text_value(self.carrier.as_ref().map(Carrier::name)),
            ResultField::Province => text_value(self.province.as_deref()),
            ResultField::City => text_value(self.city.as_deref()),
            ResultField::OrderId => text_value(self.order_id.as_deref()),
            _ => Value::Null,
        }
    }
}

impl FaceOutcome {
    /// Reads the `result` object of a billed answer. Never fails: what is missing stays
    /// `None` and what is unknown is kept raw.
    pub fn from_result(result: &ResultFields, reason: String) -> Self {
        let face = result.int(ResultField::Res).map(FaceResult::new);
        Self {
            verdict: face.and_then(|r| r.info()).map_or(Verdict::Unknown, |i| i.verdict),
            result: face,
            message: result.text(ResultField::Resmsg),
            score: result.float(ResultField::Score),
            carrier: result.text(ResultField::Type).map(|t| Carrier::from_name(&t)),
            order_id: result.text(ResultField::OrderId),
            reason,
            provenance: ANSWERED_ONCE,
        }
    }
}

impl Outcome for FaceOutcome {
    common_accessors!();
    fn value(&self, field: ResultField) -> Value {
        match field {
            ResultField::Res => self.result.map(|r| r.code()).into(),
            ResultField::Resmsg => text_value(self.message.as_deref()),
            ResultField::Score => self.score.into(),
            ResultField::Type => text_value(self.carrier.as_ref().map(Carrier::name)),
            ResultField::OrderId => text_value(self.order_id.as_deref()),
            _ => Value::Null,
        }
    }
}
