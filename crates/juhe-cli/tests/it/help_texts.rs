//! Every `--help` the command has, as one snapshot: the wording is reviewed once and kept,
//! whether the subcommands are written by hand or built from the product registry.

use crate::juhe;

/// The subcommands `juhe PATH --help` lists (`help` aside).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The help of `path` and of every subcommand below it, depth first.
fn walk(path: &mut Vec<String>, out: &mut String) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let output = juhe(&args);
    assert!(output.status.success(), "juhe {}: {output:?}", args.join(" "));
    let help = String::from_utf8(output.stdout).unwrap();
    out.push_str(&format!("===== juhe {}\n{help}\n", args.join(" ")));
    for name in subcommands(&help) {
        path.push(name);
        walk(path, out);
        path.pop();
    }
}

#[test]
fn every_help_text_is_as_reviewed() {
    let mut out = String::new();
    walk(&mut Vec::new(), &mut out);
    assert!(out.contains("===== juhe face --help"), "{out}");
    insta::assert_snapshot!("help_texts", out);
}
