//! `cargo xtask codegen`: Rust code tables from the markdown tables in `docs/api/`.
//!
//! Every fact comes from a table cell; the generator holds no prose of its own. Writing and
//! checking share one path, [`ensure_file_contents`], so `--check` cannot pass while a write
//! would change something.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

mod checks;

use crate::line_diff;
use crate::markdown::{self, Row, Table};
use crate::rust_source::{format, string, variant_name};

const DOCS: &str = "docs/api";
const OUT: &str = "crates/juhe-proto/src/generated";

/// Whether to write stale files or only report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `cargo xtask codegen`.
    Write,
    /// `cargo xtask codegen --check`.
    Check,
}

/// Generates every file and makes `OUT` hold it (write), or fails with a diff when it does not
/// (check).
pub(crate) fn run(root: &Path, mode: Mode) -> Result<String, String> {
    run_with(&root.join(DOCS), &root.join(OUT), mode)
}

fn run_with(docs: &Path, out: &Path, mode: Mode) -> Result<String, String> {
    let files = generate(docs)?;
    let mut stale = Vec::new();
    for (name, text) in &files {
        if let Some(diff) = ensure_file_contents(mode, &out.join(name), text)? {
            stale.push(diff);
        }
    }
    match (mode, stale.is_empty()) {
        (_, true) => Ok(format!("codegen: {} files in {OUT} are up to date", files.len())),
        (Mode::Write, false) => {
            Ok(format!("codegen: {} of {} files updated in {OUT}", stale.len(), files.len()))
        }
        (Mode::Check, false) => Err(format!(
            "{}\ncodegen: generated code is stale: run `cargo xtask codegen` and commit",
            stale.join("\n")
        )),
    }
}

/// Makes `path` hold `contents`: `None` when it already does; otherwise the diff, after
/// writing the file in [`Mode::Write`].
fn ensure_file_contents(mode: Mode, path: &Path, contents: &str) -> Result<Option<String>, String> {
    let current = fs::read_to_string(path).unwrap_or_default();
    if current == contents {
        return Ok(None);
    }
    if mode == Mode::Write {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Some(format!(
        "--- {} (on disk)\n+++ generated\n{}",
        path.display(),
        line_diff::render(&current, contents)
    )))
}

/// The tables of one `docs/api/*.md` file.
struct Doc {
    file: String,
    tables: Vec<Table>,
}

impl Doc {
    fn read(docs: &Path, file: &str) -> Result<Self, String> {
        let path = docs.join(format!("{file}.md"));
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { file: format!("{DOCS}/{file}.md"), tables: markdown::tables(&text) })
    }

    /// The one table under `## heading`.
    fn table(&self, heading: &str) -> Result<&Table, String> {
        let mut found = self.tables.iter().filter(|t| t.heading == heading);
        match (found.next(), found.next()) {
            (Some(t), None) => Ok(t),
            (None, _) => Err(format!("{}: no table under `## {heading}`", self.file)),
            _ => Err(format!("{}: more than one table under `## {heading}`", self.file)),
        }
    }

    /// Runs `f` over each row of the table under `heading`; errors name the file.
    fn rows(
        &self,
        heading: &str,
        mut f: impl FnMut(&Table, &Row) -> Result<(), String>,
    ) -> Result<(), String> {
        let table = self.table(heading)?;
        table.rows.iter().try_for_each(|row| f(table, row)).map_err(|e| format!("{}: {e}", self.file))
    }
}

/// Every generated file, by name, formatted.
fn generate(docs: &Path) -> Result<Vec<(String, String)>, String> {
    let params = Doc::read(docs, "params")?;
    let system = Doc::read(docs, "system")?;
    let products =
        product_files(docs)?.iter().map(|file| Doc::read(docs, file)).collect::<Result<Vec<_>, _>>()?;

    let readme = Doc::read(docs, "README")?;
    let (host_src, hosts) = host_enum(&readme)?;
    let (param_src, wire_names, personal) = param_enum(&params)?;
    let mut product_names = Vec::new();
    for doc in &products {
        doc.rows("Product", |table, row| {
            product_names.push(variant_name(table.cell(row, "name")?, row.line)?.to_owned());
            Ok(())
        })?;
    }
    let mut codes = Codes { params: wire_names.clone(), ..Codes::default() };
    codes.add(&system, "System codes", None)?;
    for (doc, product) in products.iter().zip(&product_names) {
        codes.add(doc, "Service codes", Some(product))?;
    }
    let result_table = |file: &str| {
        products.iter().find(|d| d.file.ends_with(&format!("/{file}.md"))).ok_or(format!("no {file}.md"))
    };
    let (telecom3, face) = (result_table("telecom3")?, result_table("face")?);
    let files = [
        ("params.rs", "use crate::{ParamInput, ParamKind};\n\n".to_owned() + &param_src),
        ("products.rs", product_enum(&products)?),
        ("result_fields.rs", result_field_enum(&products, &product_names)?),
        ("endpoints.rs", endpoint_enum(&products, &wire_names, &hosts)? + &host_src),
        // After the endpoints: a misspelt parameter is reported there, by name.
        ("checks.rs", checks::generate(&products, &personal)?),
        (
            "codes.rs",
            "use crate::{CodeInfo, ErrorCode, Param, Product, RetryClass};\n\n".to_owned() + &codes.finish(),
        ),
        (
            "results.rs",
            "use crate::{FaceResult, ResultInfo, Telecom3Rescode, Verdict};\n\n".to_owned()
                + &result_consts("Telecom3Rescode", telecom3, "Rescodes")?
                + &result_consts("FaceResult", face, "Results")?,
        ),
    ];
    let modules: String =
        files.iter().map(|(name, _)| format!("mod {};\n", &name[..name.len() - 3])).collect();
    let mod_rs = format!(
        "{modules}\n// Every product's check struct, whatever the registry holds.\npub use checks::*;\n\
         pub use endpoints::{{Endpoint, Host}};\npub use params::Param;\npub use products::Product;\n"
    );
    let mod_rs = mod_rs + "pub use result_fields::ResultField;\n";
    std::iter::once(("mod.rs", mod_rs))
        .chain(files)
        .map(|(name, body)| {
            let header = "// @generated by `cargo xtask codegen` from docs/api/*.md.\n\
                          // Do not edit: change the tables and run `cargo xtask codegen`.\n\n";
            Ok((name.to_owned(), format(&(header.to_owned() + &body))?))
        })
        .collect()
}

/// The product files, in the order of `README.md`'s `## Products` table.
fn product_files(docs: &Path) -> Result<Vec<String>, String> {
    let readme = Doc::read(docs, "README")?;
    let mut files = Vec::new();
    readme.rows("Products", |table, row| {
        files.push(table.cell(row, "file")?.to_owned());
        Ok(())
    })?;
    Ok(files)
}

/// What [`param_enum`] makes.
type ParamTables = (String, Vec<(String, String)>, Vec<checks::Personal>);

/// `enum Param`, the wire names it covers and its personal parameters.
fn param_enum(doc: &Doc) -> Result<ParamTables, String> {
    let (mut variants, mut wire, mut kind, mut from, mut all) =
        (String::new(), String::new(), String::new(), String::new(), String::new());
    let (mut zh, mut input) = (String::new(), String::new());
    let (mut field, mut help, mut aliases) = (String::new(), String::new(), String::new());
    let mut names = Vec::new();
    let mut personal = Vec::new();
    doc.rows("Parameters", |table, row| {
        let variant = variant_name(table.cell(row, "name")?, row.line)?;
        let name = table.cell(row, "wire")?;
        let kind_variant = match table.cell(row, "kind")? {
            "credential" => "Credential",
            "personal" => "Personal",
            "constant" => "Constant",
            "derived" => "Derived",
            other => {
                return Err(format!(
                    "line {}: kind `{other}` is not credential, personal, constant or derived",
                    row.line
                ));
            }
        };
        let _ = writeln!(variants, "/// `{name}`: {}.\n{variant},", table.cell(row, "en")?);
        let _ = writeln!(wire, "Self::{variant} => {},", string(name));
        let _ = writeln!(kind, "Self::{variant} => ParamKind::{kind_variant},");
        let _ = writeln!(from, "{} => Some(Self::{variant}),", string(name));
        let _ = writeln!(all, "Self::{variant},");
        if kind_variant == "Personal" {
            let _ = writeln!(zh, "Self::{variant} => Some({}),", string(table.cell(row, "zh")?));
            let _ = writeln!(field, "Self::{variant} => Some({}),", string(table.cell(row, "field")?));
            let _ = writeln!(help, "Self::{variant} => Some({}),", string(table.cell(row, "help")?));
            let words: Vec<String> =
                table.cell(row, "aliases")?.split(',').map(|w| string(w.trim())).collect();
            let _ = writeln!(aliases, "Self::{variant} => &[{}],", words.join(", "));
            let param = checks::Personal::read(table, row)?;
            let _ = writeln!(input, "Self::{variant} => Some(ParamInput::{}),", param.input_variant());
            personal.push(param);
        }
        names.push((name.to_owned(), variant.to_owned()));
        Ok(())
    })?;
    let count = names.len();
    let source = format!(
        "/// A form parameter of Juhe's endpoints, by its role; [`Param::wire_name`] is the name sent.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[non_exhaustive]\npub enum Param {{\n{variants}}}\n\n\
         impl Param {{\n\
         /// Every parameter.\n pub const ALL: [Self; {count}] = [{all}];\n\n\
         /// The name on the wire, as Juhe spells it (case matters).\n\
         pub const fn wire_name(self) -> &'static str {{ match self {{ {wire} }} }}\n\n\
         /// What supplies its value.\n pub const fn kind(self) -> ParamKind {{ match self {{ {kind} }} }}\n\n\
         /// The parameter named `name` on the wire; exact match.\n\
         pub fn from_wire_name(name: &str) -> Option<Self> {{ match name {{ {from} _ => None }} }}\n\n\
         /// The word Juhe's error messages use for a personal parameter (`姓名`).\n\
         pub const fn zh(self) -> Option<&'static str> {{ match self {{ {zh} _ => None }} }}\n\n\
         /// What a caller gives for a personal parameter: text, or a file's bytes.\n\
         pub const fn input(self) -> Option<ParamInput> {{ match self {{ {input} _ => None }} }}\n\n\
         /// A personal parameter's name as a check's field, a CLI option (`--name`) and a CSV column: `name` for `realname`.\n\
         pub const fn field_name(self) -> Option<&'static str> {{ match self {{ {field} _ => None }} }}\n\n\
         /// A personal parameter's one-line help, as the CLI shows it.\n\
         pub const fn help(self) -> Option<&'static str> {{ match self {{ {help} _ => None }} }}\n\n\
         /// Other CSV header spellings accepted for a personal parameter's column.\n\
         pub const fn column_aliases(self) -> &'static [&'static str] {{ match self {{ {aliases} _ => &[] }} }}\n}}\n"
    );
    Ok((source, names, personal))
}

fn product_enum(products: &[Doc]) -> Result<String, String> {
    let (mut variants, mut all, mut name, mut zh, mut en) =
        (String::new(), String::new(), String::new(), String::new(), String::new());
    let (mut summary, mut order) = (String::new(), String::new());
    for doc in products {
        doc.rows("Product", |table, row| {
            let variant = variant_name(table.cell(row, "name")?, row.line)?;
            let short = table.cell(row, "short")?;
            let chinese = table.cell(row, "zh")?;
            let _ =
                writeln!(variants, "/// {} ({chinese}): `{short}`.\n{variant},", table.cell(row, "checks")?);
            let _ = writeln!(all, "Self::{variant},");
            let _ = writeln!(name, "Self::{variant} => {},", string(short));
            let _ = writeln!(zh, "Self::{variant} => {},", string(chinese));
            let _ = writeln!(en, "Self::{variant} => {},", string(table.cell(row, "en")?));
            let _ = writeln!(summary, "Self::{variant} => {},", string(table.cell(row, "summary")?));
            let _ = writeln!(order, "Self::{variant} => {},", number(table, row, "order")?);
            Ok(())
        })?;
    }
    Ok(format!(
        "/// One of Juhe's identity-verification products.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Product {{\n{variants}}}\n\n\
         impl Product {{\n\
         /// Every product.\n pub const ALL: [Self; {}] = [{all}];\n\n\
         /// The short name the CLI and logs use.\n pub const fn name(self) -> &'static str {{ match self {{ {name} }} }}\n\n\
         /// The product whose [`name`](Self::name) is `name`; exact match.\n\
         pub fn from_name(name: &str) -> Option<Self> {{ Self::ALL.into_iter().find(|p| p.name() == name) }}\n\n\
         /// Juhe's name for it.\n pub const fn zh(self) -> &'static str {{ match self {{ {zh} }} }}\n\n\
         /// What it checks, in a few English words.\n pub const fn en(self) -> &'static str {{ match self {{ {en} }} }}\n\n\
         /// One line on what it checks, as the CLI's subcommand shows it.\n pub const fn summary(self) -> &'static str {{ match self {{ {summary} }} }}\n\n\
         /// Its number in Juhe's order numbers: `339` in `J339201812031141197115QV`.\n pub const fn order_module(self) -> u32 {{ match self {{ {order} }} }}\n}}\n",
        products.len()
    ))
}

/// `enum ResultField`, and each product's fields in its table's order.
fn result_field_enum(products: &[Doc], product_names: &[String]) -> Result<String, String> {
    // (wire, variant, number?, en), in first-seen order.
    let mut fields: Vec<(String, String, bool, String)> = Vec::new();
    let mut per_product = String::new();
    for (doc, product) in products.iter().zip(product_names) {
        let mut listed = Vec::new();
        doc.rows("Result fields", |table, row| {
            let wire = table.cell(row, "field")?.to_owned();
            let variant = variant_name(table.cell(row, "name")?, row.line)?.to_owned();
            let number =
                pick(row.line, "kind", table.cell(row, "kind")?, &[("number", "true"), ("text", "false")])?
                    == "true";
            match fields.iter().find(|f| f.0 == wire) {
                Some(seen) if (seen.1.as_str(), seen.2) != (variant.as_str(), number) => {
                    return Err(format!(
                        "line {}: `{wire}` has another name or kind in an earlier product",
                        row.line
                    ));
                }
                Some(_) => {}
                None => fields.push((wire, variant.clone(), number, table.cell(row, "en")?.to_owned())),
            }
            listed.push(format!("ResultField::{variant}"));
            Ok(())
        })?;
        let _ = writeln!(per_product, "Self::{product} => &[{}],", listed.join(", "));
    }
    let (mut variants, mut all, mut wire, mut number) =
        (String::new(), String::new(), String::new(), String::new());
    for (name, variant, is_number, en) in &fields {
        let _ = writeln!(variants, "/// `{name}`: {en}.\n{variant},");
        let _ = writeln!(all, "Self::{variant},");
        let _ = writeln!(wire, "Self::{variant} => {},", string(name));
        let _ = writeln!(number, "Self::{variant} => {is_number},");
    }
    let count = fields.len();
    Ok(format!(
        "use crate::Product;\n\n\
         /// A field of a billed answer's `result`, by its role; [`ResultField::wire_name`] is Juhe's key.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[non_exhaustive]\npub enum ResultField {{\n{variants}}}\n\n\
         impl ResultField {{\n\
         /// Every field.\n pub const ALL: [Self; {count}] = [{all}];\n\n\
         /// The key in `result`, as Juhe spells it.\n pub const fn wire_name(self) -> &'static str {{ match self {{ {wire} }} }}\n\n\
         /// Whether reports show it as a number (otherwise as text).\n pub const fn is_number(self) -> bool {{ match self {{ {number} }} }}\n}}\n\n\
         impl Product {{\n\
         /// The fields of its billed answers, in the order reports show them.\n\
         pub const fn result_fields(self) -> &'static [ResultField] {{ match self {{ {per_product} }} }}\n}}\n"
    ))
}

/// `enum Host` from the `Hosts` table, and its (short name, variant) pairs.
fn host_enum(readme: &Doc) -> Result<(String, Vec<(String, String)>), String> {
    let (mut variants, mut all, mut urls, mut hosts) =
        (String::new(), String::new(), String::new(), Vec::new());
    readme.rows("Hosts", |table, row| {
        let variant = variant_name(table.cell(row, "name")?, row.line)?.to_owned();
        let url = table.cell(row, "url")?;
        let _ = writeln!(variants, "/// `{url}`.\n{variant},");
        let _ = writeln!(all, "Self::{variant},");
        let _ = writeln!(urls, "Self::{variant} => {},", string(url));
        hosts.push((table.cell(row, "host")?.to_owned(), variant));
        Ok(())
    })?;
    let count = hosts.len();
    let source = format!(
        "\n/// One of Juhe's API hosts.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Host {{\n{variants}}}\n\n\
         impl Host {{\n\
         /// Every host.\n pub const ALL: [Self; {count}] = [{all}];\n\n\
         /// Its base URL at Juhe, without a trailing slash.\n\
         pub const fn default_base_url(self) -> &'static str {{ match self {{ {urls} }} }}\n}}\n"
    );
    Ok((source, hosts))
}

fn endpoint_enum(
    products: &[Doc],
    params: &[(String, String)],
    hosts: &[(String, String)],
) -> Result<String, String> {
    let (mut variants, mut info, mut all, mut count) = (String::new(), String::new(), String::new(), 0);
    for doc in products {
        let product =
            doc.table("Product")?.rows.first().ok_or_else(|| format!("{}: no product row", doc.file))?;
        let product = doc.table("Product")?.cell(product, "name")?.to_owned();
        doc.rows("Endpoints", |table, row| {
            let cell = |c: &str| table.cell(row, c);
            let line = row.line;
            let variant = variant_name(cell("name")?, line)?;
            let api = cell("api")?;
            let mode = pick(line, "mode", cell("mode")?, &[("plain", "Plain"), ("signed", "Signed"), ("aes", "Aes"), ("rsa", "Rsa")])?;
            let choices: Vec<(&str, &str)> = hosts.iter().map(|(h, v)| (h.as_str(), v.as_str())).collect();
            let host = pick(line, "host", cell("host")?, &choices)?;
            let encoding = pick(
                line,
                "encoding",
                cell("encoding")?,
                &[("plain", "Plain"), ("signed", "Signed"), ("aes-ecb", "AesEcb"), ("rsa-oaep", "RsaOaep"), ("aes-cbc+rsa", "AesCbcWithRsaKey")],
            )?;
            let post_only = pick(line, "method", cell("method")?, &[("post", "true"), ("get/post", "false")])?;
            let mut sent = Vec::new();
            for wire in cell("params")?.split(',').map(str::trim) {
                let (_, variant) = params.iter().find(|(w, _)| w == wire).ok_or_else(|| {
                    format!("line {line}: parameter `{wire}` is not in {DOCS}/params.md")
                })?;
                sent.push(format!("Param::{variant}"));
            }
            let _ = writeln!(variants, "/// `{api}`.\n{variant},");
            let _ = writeln!(all, "Self::{variant},");
            let _ = writeln!(
                info,
                "Self::{variant} => &EndpointInfo {{ api: {}, product: Product::{product}, mode: Mode::{mode}, host: Host::{host}, \
                 encoding: FieldEncoding::{encoding}, post_only: {post_only}, params: &[{}] }},",
                string(api),
                sent.join(", ")
            );
            count += 1;
            Ok(())
        })?;
    }
    Ok(format!(
        "use crate::{{EndpointInfo, FieldEncoding, Mode, Param, Product}};\n\n\
         /// One of Juhe's endpoints: a product in one transmission mode.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[non_exhaustive]\npub enum Endpoint {{\n{variants}}}\n\n\
         impl Endpoint {{\n\
         /// Every endpoint, product by product.\n pub const ALL: [Self; {count}] = [{all}];\n\n\
         /// Its path, host, mode, field encoding and form parameters.\n\
         pub const fn info(self) -> &'static EndpointInfo {{ match self {{ {info} }} }}\n}}\n"
    ))
}

/// The Rust spelling of a table word, or an error naming the line and the words allowed.
fn pick<'a>(
    line: usize,
    column: &str,
    cell: &str,
    choices: &[(&'a str, &'a str)],
) -> Result<&'a str, String> {
    choices.iter().find(|(word, _)| *word == cell).map(|(_, rust)| *rust).ok_or_else(|| {
        let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
        format!("line {line}: {column} `{cell}` is not one of {}", words.join(", "))
    })
}

/// The error-code constants of every table, gathered for one `impl ErrorCode`.
#[derive(Default)]
struct Codes {
    /// Wire name → `Param` variant.
    params: Vec<(String, String)>,
    consts: String,
    all: String,
    info: String,
    /// The arms of `ErrorCode::refusing`.
    refusing: String,
}

impl Codes {
    fn add(&mut self, doc: &Doc, heading: &str, product: Option<&str>) -> Result<(), String> {
        if let Some(product) = product {
            self.add_refusals(doc, heading, product)?;
        }
        doc.rows(heading, |table, row| {
            let name = const_name(table.cell(row, "name")?, row.line)?;
            let code = number(table, row, "code")?;
            let (zh, en) = (table.cell(row, "zh")?, table.cell(row, "en")?);
            let retry = pick(
                row.line,
                "retry",
                table.cell(row, "retry")?,
                &[("no", "Permanent"), ("yes", "Transient"), ("backoff", "RateLimited")],
            )?;
            let legacy = match product {
                None => format!("Some({})", number(table, row, "resultcode")?),
                Some(_) => "None".to_owned(),
            };
            let product = product.map_or_else(|| "None".to_owned(), |p| format!("Some(Product::{p})"));
            let _ = writeln!(
                self.consts,
                "/// `{code}` {zh}: {en}.\npub const {name}: Self = Self::new({code});"
            );
            let _ = writeln!(self.all, "Self::{name},");
            let _ = writeln!(
                self.info,
                "{code} => Some(&CodeInfo {{ code: {code}, name: {}, product: {product}, zh: {}, en: {}, \
                 retry: RetryClass::{retry}, legacy_resultcode: {legacy} }}),",
                string(name),
                string(zh),
                string(en)
            );
            Ok(())
        })
    }

    /// The `refuses` column of a product's codes: one arm of `ErrorCode::refusing`.
    fn add_refusals(&mut self, doc: &Doc, heading: &str, product: &str) -> Result<(), String> {
        let (mut empty, mut by_param, mut any) = (None, String::new(), Vec::new());
        doc.rows(heading, |table, row| {
            let name = const_name(table.cell(row, "name")?, row.line)?.to_owned();
            for word in table.cell(row, "refuses")?.split(',').map(str::trim).filter(|w| *w != "-") {
                match word {
                    "empty" => empty = Some(name.clone()),
                    "any" => any.push(name.clone()),
                    wire => {
                        let (_, variant) = self.params.iter().find(|(w, _)| w == wire).ok_or_else(|| {
                            format!("line {}: refuses `{wire}`, which is not in {DOCS}/params.md", row.line)
                        })?;
                        let _ = writeln!(by_param, "(Some(Param::{variant}), _) => Self::{name},");
                    }
                }
            }
            Ok(())
        })?;
        let [any] = any.as_slice() else {
            return Err(format!("{}: `refuses` must name `any` on exactly one code", doc.file));
        };
        let empty = empty.map(|name| format!("(_, true) => Self::{name},")).unwrap_or_default();
        let _ = match (empty.is_empty() && by_param.is_empty(), empty) {
            (true, _) => writeln!(self.refusing, "Product::{product} => Self::{any},"),
            (false, empty) => writeln!(
                self.refusing,
                "Product::{product} => match (param, empty) {{ {empty} {by_param} _ => Self::{any} }},"
            ),
        };
        Ok(())
    }

    fn finish(self) -> String {
        let Codes { consts, all, info, refusing, .. } = self;
        format!(
            "impl ErrorCode {{\n{consts}\n\
             /// Every documented code: system codes first, then each product's.\n\
             pub const ALL: &'static [Self] = &[{all}];\n\n\
             /// Its table row; `None` for a code the documents do not list.\n\
             pub const fn info(self) -> Option<&'static CodeInfo> {{ match self.code() {{ {info} _ => None }} }}\n\n\
             /// The code `product` answers a request with when `param` is malformed or (with `empty`) left empty; `None` for a bad parameter that is not personal (a sign, an `aesKey`). What a server that reads requests as Juhe does replies.\n\
             pub const fn refusing(product: Product, param: Option<Param>, empty: bool) -> Self {{ match product {{ {refusing} }} }}\n}}\n"
        )
    }
}

/// Constants and a lookup over a result table (`rescode`, face `res`).
fn result_consts(type_name: &str, doc: &Doc, heading: &str) -> Result<String, String> {
    let (mut consts, mut all, mut info) = (String::new(), String::new(), String::new());
    doc.rows(heading, |table, row| {
        let name = const_name(table.cell(row, "name")?, row.line)?;
        let code = number(table, row, "code")?;
        let (zh, en) = (table.cell(row, "zh")?, table.cell(row, "en")?);
        let verdict =
            pick(row.line, "verdict", table.cell(row, "verdict")?, &[("match", "Match"), ("mismatch", "Mismatch")])?;
        let _ = writeln!(consts, "/// `{code}` {zh}: {en}.\npub const {name}: Self = Self::new({code});");
        let _ = writeln!(all, "Self::{name},");
        let _ = writeln!(
            info,
            "{code} => Some(&ResultInfo {{ code: {code}, name: {}, verdict: Verdict::{verdict}, zh: {}, en: {} }}),",
            string(name),
            string(zh),
            string(en)
        );
        Ok(())
    })?;
    Ok(format!(
        "impl {type_name} {{\n{consts}\n\
         /// Every documented value, in the table's order.\n pub const ALL: &'static [Self] = &[{all}];\n\n\
         /// Its verdict and messages; `None` for a value the documents do not list.\n\
         pub const fn info(self) -> Option<&'static ResultInfo> {{ match self.code() {{ {info} _ => None }} }}\n}}\n\n"
    ))
}

fn number(table: &Table, row: &Row, column: &str) -> Result<i64, String> {
    let cell = table.cell(row, column)?;
    cell.parse().map_err(|_| format!("line {}: `{cell}` in column `{column}` is not a number", row.line))
}

/// Checks that `name` can be a Rust constant (SCREAMING_SNAKE_CASE ASCII).
fn const_name(name: &str, line: usize) -> Result<&str, String> {
    let ok = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(name) } else { Err(format!("line {line}: `{name}` is not a SCREAMING_SNAKE_CASE name")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` fails while the generated code is stale, like `cargo xtask codegen --check`.
    #[test]
    fn generated_code_is_fresh() {
        let root = crate::workspace_root();
        if let Err(report) = run(&root, Mode::Check) {
            panic!("{report}");
        }
    }

    /// A hand-edited table makes the check fail, and a write makes it pass again; an unknown
    /// parameter name fails generation and names the line.
    #[test]
    fn an_edited_table_is_stale_until_written() {
        let root = crate::workspace_root();
        let tmp = std::env::temp_dir().join(format!("juhe-xtask-{}", std::process::id()));
        let (docs, out) = (tmp.join("docs"), tmp.join("out"));
        fs::create_dir_all(&docs).unwrap();
        for entry in fs::read_dir(root.join(DOCS)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), docs.join(entry.file_name())).unwrap();
        }
        run_with(&docs, &out, Mode::Write).unwrap();
        assert!(run_with(&docs, &out, Mode::Check).is_ok());

        let telecom3 = docs.join("telecom3.md");
        let text = fs::read_to_string(&telecom3).unwrap();
        fs::write(&telecom3, text.replace("| no record |", "| no record at all |")).unwrap();
        let report = run_with(&docs, &out, Mode::Check).unwrap_err();
        let added = |text: &str| report.lines().any(|l| l.starts_with('+') && l.contains(text));
        assert!(added("/// `233903` 库中无此记录: no record at all."), "{report}");
        run_with(&docs, &out, Mode::Write).unwrap();
        assert!(run_with(&docs, &out, Mode::Check).is_ok());

        fs::write(
            &telecom3,
            text.replace("key, realname, idcard, mobile, sign", "key, realname, idcrad, mobile, sign"),
        )
        .unwrap();
        let error = run_with(&docs, &out, Mode::Check).unwrap_err();
        assert!(error.contains("docs/api/telecom3.md: line") && error.contains("`idcrad`"), "{error}");
        let _ = fs::remove_dir_all(&tmp);
    }
}
