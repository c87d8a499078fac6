//! The product subcommands (`juhe idcard`, `juhe face`, …), built from the product registry:
//! one per product, a required `--FIELD` option per personal parameter (a file's path for a
//! parameter given as bytes), and the options every check takes. A new product in `docs/api`
//! is a new subcommand here without a line of this file changing.

use std::path::PathBuf;

use clap::{ArgMatches, Args, FromArgMatches, Subcommand};
use juhe_proto::{Param, ParamInput, Product};

use crate::args::lowargs::CheckArgs;

/// What a product subcommand was given.
#[derive(Debug, Clone)]
pub(crate) struct ProductCommand {
    pub(crate) product: Product,
    /// Each personal parameter's option, in the product's order.
    pub(crate) fields: Vec<(Param, FieldArg)>,
    pub(crate) args: CheckArgs,
}

/// An option's value: text, or the path of a file whose bytes are the value.
#[derive(Debug, Clone)]
pub(crate) enum FieldArg {
    Text(String),
    File(PathBuf),
}

/// The option of `param`: `--name` for `realname`.
fn option_name(param: Param) -> &'static str {
    param.field_name().unwrap_or(param.wire_name())
}

fn product_command(product: Product) -> clap::Command {
    let mut command = clap::Command::new(product.name());
    for &param in product.params() {
        let name = option_name(param);
        let arg = clap::Arg::new(name).long(name).required(true).help(param.help().unwrap_or_default());
        command = command.arg(match param.input() {
            Some(ParamInput::Bytes) => arg.value_name("FILE").value_parser(clap::value_parser!(PathBuf)),
            // The derive's default: the option's name in capitals.
            _ => arg.value_name(name.to_uppercase()),
        });
    }
    // After the check options: their struct's doc would otherwise be the about line.
    CheckArgs::augment_args(command).about(product.summary()).long_about(None)
}

impl Subcommand for ProductCommand {
    fn augment_subcommands(command: clap::Command) -> clap::Command {
        Product::ALL
            .into_iter()
            .fold(command, |command, product| command.subcommand(product_command(product)))
    }

    fn augment_subcommands_for_update(command: clap::Command) -> clap::Command {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        Product::from_name(name).is_some()
    }
}

impl FromArgMatches for ProductCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let missing = || clap::Error::new(clap::error::ErrorKind::MissingSubcommand);
        let (name, sub) = matches.subcommand().ok_or_else(missing)?;
        let product = Product::from_name(name).ok_or_else(missing)?;
        let mut fields = Vec::new();
        for &param in product.params() {
            let name = option_name(param);
            let value = match param.input() {
                Some(ParamInput::Bytes) => sub.get_one::<PathBuf>(name).cloned().map(FieldArg::File),
                _ => sub.get_one::<String>(name).cloned().map(FieldArg::Text),
            };
            let value =
                value.ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingRequiredArgument))?;
            fields.push((param, value));
        }
        Ok(Self { product, fields, args: CheckArgs::from_arg_matches(sub)? })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
