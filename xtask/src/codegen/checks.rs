//! The product registry: each product's check struct, its constructors and `Check` impl, and
//! `AnyCheck` / `AnyOutcome`, the run-time choice of product. A product's fields are the
//! personal parameters its endpoints send, typed as `params.md` says.

use std::fmt::Write as _;

use super::{Doc, pick};
use crate::rust_source::variant_name;

/// A personal parameter, as `params.md` describes it.
pub(super) struct Personal {
    pub(super) variant: String,
    pub(super) wire: String,
    /// The check structs' field.
    field: String,
    /// The validated type.
    ty: String,
    /// The caller gives bytes (a file's contents), not text.
    bytes: bool,
    en: String,
}

impl Personal {
    /// The row of `params.md` for a `personal` parameter.
    pub(super) fn read(table: &crate::markdown::Table, row: &crate::markdown::Row) -> Result<Self, String> {
        let cell = |c: &str| table.cell(row, c).map(str::to_owned);
        let field = cell("field")?;
        let ty = cell("type")?;
        if !field.chars().all(|c| c.is_ascii_lowercase() || c == '_') || field.is_empty() {
            return Err(format!("line {}: field `{field}` is not a snake_case name", row.line));
        }
        variant_name(&ty, row.line)?;
        let bytes =
            pick(row.line, "input", table.cell(row, "input")?, &[("text", "false"), ("bytes", "true")])?;
        Ok(Self {
            variant: cell("name")?,
            wire: cell("wire")?,
            field,
            ty,
            bytes: bytes == "true",
            en: cell("en")?,
        })
    }

    /// The `ParamInput` variant.
    pub(super) fn input_variant(&self) -> &'static str {
        if self.bytes { "Bytes" } else { "Text" }
    }

    fn argument_type(&self) -> &'static str {
        if self.bytes { "Vec<u8>" } else { "&str" }
    }
}

/// One product's row of its `## Product` table, with the personal parameters it sends.
struct ProductRow<'p> {
    variant: String,
    checks: String,
    zh: String,
    outcome: String,
    params: Vec<&'p Personal>,
}

/// `checks.rs`: the check structs, `AnyCheck`, `AnyOutcome` and `Product::params`.
pub(super) fn generate(products: &[Doc], personal: &[Personal]) -> Result<String, String> {
    let rows = products.iter().map(|doc| product_row(doc, personal)).collect::<Result<Vec<_>, _>>()?;
    let mut source = String::from(
        "use std::borrow::Cow;\n\n\
         use crate::check::sealed::Sealed;\n\
         use crate::outcome::sealed::Sealed as SealedOutcome;\n\
         use crate::{Check, CivilDate, Outcome, OutcomeReader, Param, PersonalFields, PersonalValue, Product, Provenance, ResultField, ValidationError, Verdict};\n",
    );
    let mut types: Vec<&str> = personal.iter().map(|p| p.ty.as_str()).collect();
    types.extend(rows.iter().map(|r| r.outcome.as_str()));
    types.sort_unstable();
    types.dedup();
    let _ = writeln!(source, "use crate::{{{}}};\n", types.join(", "));
    for row in &rows {
        source += &check_struct(row);
    }
    source += &any_check(&rows);
    source += &any_outcome(&rows);
    source += &product_params(&rows);
    Ok(source)
}

fn product_row<'p>(doc: &Doc, personal: &'p [Personal]) -> Result<ProductRow<'p>, String> {
    let table = doc.table("Product")?;
    let row = table.rows.first().ok_or_else(|| format!("{}: no product row", doc.file))?;
    let cell = |c: &str| table.cell(row, c).map(str::to_owned);
    let variant = variant_name(&cell("name")?, row.line)?.to_owned();
    let outcome = variant_name(&cell("outcome")?, row.line)?.to_owned();
    let mut sent: Option<Vec<&Personal>> = None;
    doc.rows("Endpoints", |table, row| {
        let mut params = Vec::new();
        for wire in table.cell(row, "params")?.split(',').map(str::trim) {
            params.extend(personal.iter().find(|p| p.wire == wire));
        }
        match &sent {
            Some(first) if first.iter().map(|p| &p.wire).ne(params.iter().map(|p| &p.wire)) => Err(format!(
                "line {}: an endpoint of one product sends other personal parameters than the first",
                row.line
            )),
            Some(_) => Ok(()),
            None => {
                sent = Some(params);
                Ok(())
            }
        }
    })?;
    let params = sent.ok_or_else(|| format!("{}: no endpoints", doc.file))?;
    Ok(ProductRow { variant, checks: cell("checks")?, zh: cell("zh")?, outcome, params })
}

/// `pub struct {Product}Check`, its constructors and its `Check` impl.
fn check_struct(row: &ProductRow<'_>) -> String {
    let ProductRow { variant, checks, zh, outcome, params } = row;
    let (mut fields, mut args, mut names, mut inits, mut wire) =
        (String::new(), String::new(), Vec::new(), String::new(), String::new());
    for p in params {
        let (field, ty) = (&p.field, &p.ty);
        let _ = writeln!(fields, "/// `{}`: {}, validated ([`{ty}`]).\npub {field}: {ty},", p.wire, p.en);
        let _ = write!(args, "{field}: {}, ", p.argument_type());
        names.push(field.as_str());
        let _ = writeln!(inits, "{field}: {ty}::from_input({field}, today)?,");
        let _ = writeln!(wire, "Param::{} => Some(self.{field}.wire()),", p.variant);
    }
    let names = names.join(", ");
    format!(
        "/// {checks} ({zh}).\n\
         #[derive(Debug, Clone, PartialEq, Eq)]\npub struct {variant}Check {{\n{fields}}}\n\n\
         impl {variant}Check {{\n\
         /// The product it checks.\npub const PRODUCT: Product = Product::{variant};\n\n\
         /// Validates every field against `today` (an ID card number whose birth date is after it is refused); the error names the first bad field.\n\
         pub fn new_on({args}today: CivilDate) -> Result<Self, ValidationError> {{ Ok(Self {{ {inits} }}) }}\n\n\
         /// [`new_on`](Self::new_on) against today's date in China.\n\
         #[cfg(feature = \"clock\")]\n\
         pub fn new({args}) -> Result<Self, ValidationError> {{ Self::new_on({names}, CivilDate::today_in_china()) }}\n}}\n\n\
         impl Sealed for {variant}Check {{}}\n\n\
         impl Check for {variant}Check {{\n\
         type Outcome = {outcome};\n\
         fn product(&self) -> Product {{ Product::{variant} }}\n\
         fn field(&self, param: Param) -> Option<Cow<'_, str>> {{ match param {{ {wire} _ => None }} }}\n\
         fn outcome_reader(&self) -> OutcomeReader<{outcome}> {{ {outcome}::from_result }}\n}}\n\n\
         impl From<{variant}Check> for AnyCheck {{\n\
         fn from(check: {variant}Check) -> Self {{ Self::{variant}(check) }}\n}}\n\n"
    )
}

/// `enum AnyCheck`: parsing any product's fields, and `Check` by delegation.
fn any_check(rows: &[ProductRow<'_>]) -> String {
    let (mut variants, mut parse, mut masked) = (String::new(), String::new(), String::new());
    let (mut product, mut field, mut outcome) = (String::new(), String::new(), String::new());
    for row in rows {
        let v = &row.variant;
        let _ = writeln!(variants, "/// {} ({}).\n{v}({v}Check),", row.checks, row.zh);
        let inits: String = row
            .params
            .iter()
            .map(|p| format!("{}: {}::from_wire(fields.get(Param::{}), today)?,", p.field, p.ty, p.variant))
            .collect();
        let _ = writeln!(parse, "Product::{v} => Self::{v}({v}Check {{ {inits} }}),");
        let parts: Vec<String> =
            row.params.iter().map(|p| format!("PersonalValue::masked(&c.{})", p.field)).collect();
        let _ = writeln!(masked, "Self::{v}(c) => join_masked([{}]),", parts.join(", "));
        let _ = writeln!(product, "Self::{v}(_) => Product::{v},");
        let _ = writeln!(field, "Self::{v}(c) => c.field(param),");
        let _ = writeln!(
            outcome,
            "Self::{v}(_) => |result, reason| AnyOutcome::{v}({}::from_result(result, reason)),",
            row.outcome
        );
    }
    format!(
        "/// A check of any product: what a server, a CSV row or a command line holds when the product is known only at run time. It is a [`Check`] itself, answered with an [`AnyOutcome`]. Exhaustive, like [`Product`]: a new product is a new variant, and every `match` on it is pointed out by the compiler.\n\
         #[derive(Debug, Clone, PartialEq, Eq)]\npub enum AnyCheck {{\n{variants}}}\n\n\
         impl AnyCheck {{\n\
         /// Validates `fields`, the values as they travel on the wire ([`Check::field`]: an image as base64), as a check of `product` against `today`; the error names the first bad field, and a parameter `fields` lacks is [`Problem::Empty`](crate::Problem::Empty).\n\
         pub fn parse(product: Product, fields: &PersonalFields, today: CivilDate) -> Result<Self, ValidationError> {{\n\
         Ok(match product {{ {parse} }})\n}}\n\n\
         /// Its fields masked (`张*/110***********002X/139****5678`), for logs; images are left out.\n\
         pub fn masked(&self) -> String {{ match self {{ {masked} }} }}\n}}\n\n\
         fn join_masked<const N: usize>(parts: [Option<String>; N]) -> String {{\n\
         parts.into_iter().flatten().collect::<Vec<_>>().join(\"/\")\n}}\n\n\
         impl Sealed for AnyCheck {{}}\n\n\
         impl Check for AnyCheck {{\n\
         type Outcome = AnyOutcome;\n\
         fn product(&self) -> Product {{ match self {{ {product} }} }}\n\
         fn field(&self, param: Param) -> Option<Cow<'_, str>> {{ match self {{ {field} }} }}\n\
         fn outcome_reader(&self) -> OutcomeReader<AnyOutcome> {{ match self {{ {outcome} }} }}\n}}\n\n"
    )
}

/// `enum AnyOutcome` and its `Outcome` impl, by delegation.
fn any_outcome(rows: &[ProductRow<'_>]) -> String {
    let mut variants = String::new();
    let arms = |body: &str| -> String {
        rows.iter()
            .map(|r| format!("Self::{v}(o) => {},", body.replace("{v}", &r.variant), v = r.variant))
            .collect()
    };
    let product: String =
        rows.iter().map(|r| format!("Self::{v}(_) => Product::{v},", v = r.variant)).collect();
    let (verdict, order, reason, value, provenance, with) = (
        arms("o.verdict()"),
        arms("o.order_id()"),
        arms("o.reason()"),
        arms("o.value(field)"),
        arms("o.provenance()"),
        arms("Self::{v}(o.with_provenance(provenance))"),
    );
    for row in rows {
        let _ =
            writeln!(variants, "/// The answer to a [`{v}Check`].\n{v}({}),", row.outcome, v = row.variant);
    }
    format!(
        "/// The outcome of an [`AnyCheck`]: the product's own outcome, in the variant of its product.\n\
         #[derive(Debug, Clone, PartialEq)]\npub enum AnyOutcome {{\n{variants}}}\n\n\
         impl AnyOutcome {{\n/// The product whose answer it is.\npub fn product(&self) -> Product {{ match self {{ {product} }} }}\n}}\n\n\
         impl SealedOutcome for AnyOutcome {{}}\n\n\
         impl Outcome for AnyOutcome {{\n\
         fn verdict(&self) -> Verdict {{ match self {{ {verdict} }} }}\n\
         fn order_id(&self) -> Option<&str> {{ match self {{ {order} }} }}\n\
         fn reason(&self) -> &str {{ match self {{ {reason} }} }}\n\
         fn value(&self, field: ResultField) -> serde_json::Value {{ match self {{ {value} }} }}\n\
         fn provenance(&self) -> &Provenance {{ match self {{ {provenance} }} }}\n\
         fn with_provenance(self, provenance: Provenance) -> Self {{ match self {{ {with} }} }}\n}}\n\n"
    )
}

/// `Product::params`: the personal parameters, in the order they are sent.
fn product_params(rows: &[ProductRow<'_>]) -> String {
    let arms: String = rows
        .iter()
        .map(|r| {
            let params: Vec<String> = r.params.iter().map(|p| format!("Param::{}", p.variant)).collect();
            format!("Product::{} => &[{}],", r.variant, params.join(", "))
        })
        .collect();
    format!(
        "impl Product {{\n\
         /// The personal parameters its check takes, in the order they are sent.\n\
         pub const fn params(self) -> &'static [Param] {{ match self {{ {arms} }} }}\n}}\n"
    )
}
