//! The command line in two layers, as ripgrep has it: [`lowargs`] is what clap parses, typed
//! but unchecked; [`hiargs`] is what the commands run on, every option checked against the
//! others and turned into the library's types.

pub(crate) mod default_ledger;
pub(crate) mod environment;
pub(crate) mod hiargs;
pub(crate) mod lowargs;
pub(crate) mod product_commands;
pub(crate) mod profile;
