//! `juhe gateway keys add|rotate|revoke|list`: each change recorded in the ledger's admin log
//! with the operating-system user who made it.

use std::process::ExitCode;
use std::time::Duration;

use juhe_gateway::keys::{self, IssuedKey, TeamRules};
use juhe_verify::ledger::{AdminAction, Ledger, Location, TeamKey, china_timestamp};

use crate::args::hiargs::Format;
use crate::args::lowargs::{IssueArgs, KeysCommand, TeamRulesArgs};
use crate::failure::{Failure, error_chain};

/// Runs a `juhe gateway keys` command on the ledger at `location`.
pub(crate) fn run(command: KeysCommand, location: &Location) -> Result<ExitCode, Failure> {
    let ledger = crate::ledger::open(location)?;
    // Who runs this command, as every ledger record names a user.
    let by = juhe_verify::ledger::Actor::current().user.clone();
    match command {
        KeysCommand::Add { team, rules, issue } => {
            let issued = issue_key(&ledger, &team, rules_of(rules, TeamRules::open()), false, &issue, &by)?;
            write_credentials(&issued, &issue)?;
        }
        KeysCommand::Rotate { team, rules, issue } => {
            let current = live_rules(&ledger, &team)?;
            let issued = issue_key(&ledger, &team, rules_of(rules, current), true, &issue, &by)?;
            write_credentials(&issued, &issue)?;
        }
        KeysCommand::Revoke { team, .. } => {
            keys::revoke(&ledger, &team, &by).map_err(|e| Failure::usage(error_chain(&e)))?;
            eprintln!("juhe: team {team}'s key is revoked: its next request is refused (10001)");
        }
        KeysCommand::List { log: false, format, .. } => {
            let keys = ledger.team_keys().map_err(|e| Failure::usage(error_chain(&e)))?;
            print_keys(&keys, format.unwrap_or(Format::Text));
        }
        KeysCommand::List { log: true, format, .. } => {
            let actions = ledger.admin_actions().map_err(|e| Failure::usage(error_chain(&e)))?;
            print_log(&actions, format.unwrap_or(Format::Text));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn issue_key(
    ledger: &Ledger,
    team: &str,
    rules: TeamRules,
    rotate: bool,
    issue: &IssueArgs,
    by: &str,
) -> Result<IssuedKey, Failure> {
    let master = super::master_key_of(&issue.master_key)?;
    keys::issue(ledger, &master, team, &rules, rotate, by).map_err(|e| Failure::usage(error_chain(&e)))
}

/// The rules typed, on top of `base` (a rotated key's current rules).
fn rules_of(args: TeamRulesArgs, base: TeamRules) -> TeamRules {
    let TeamRulesArgs { products, max_billed_per_day, max_billed_per_month, reuse_within, purpose } = args;
    let mut rules = base;
    if !products.is_empty() {
        rules.products = products.iter().map(|p| p.name().to_owned()).collect();
    }
    rules.max_billed_per_day = max_billed_per_day.or(rules.max_billed_per_day);
    rules.max_billed_per_month = max_billed_per_month.or(rules.max_billed_per_month);
    rules.reuse_within_secs = reuse_within.map(|d| d.as_secs()).or(rules.reuse_within_secs);
    rules.purpose = purpose.or(rules.purpose);
    rules
}

/// The rules of `team`'s live key.
fn live_rules(ledger: &Ledger, team: &str) -> Result<TeamRules, Failure> {
    let keys = ledger.team_keys().map_err(|e| Failure::usage(error_chain(&e)))?;
    let live = keys.iter().rev().find(|k| k.team == team && k.revoked_at.is_none());
    let live = live
        .ok_or_else(|| Failure::usage(format!("team {team:?} has no live key (`juhe gateway keys list`)")))?;
    serde_json::from_str(&live.rules).map_err(|e| Failure::failed(format!("team {team}'s rules: {e}")))
}

/// The team's credentials, shown once: to --credentials-out (0600), else stdout.
fn write_credentials(issued: &IssuedKey, issue: &IssueArgs) -> Result<(), Failure> {
    let json = serde_json::json!({
        "team": issued.team,
        "key": issued.key,
        "openid": issued.openid,
        "rsa_public_key": issued.rsa_public_key_pem,
    });
    match &issue.credentials_out {
        Some(path) => {
            crate::private_file::write(path, format!("{json:#}\n").as_bytes())
                .map_err(|e| Failure::failed(format!("could not write {}: {e}", path.display())))?;
            eprintln!(
                "juhe: team {}'s credentials are in {} (shown nowhere else)",
                issued.team,
                path.display()
            );
        }
        None => println!("{json:#}"),
    }
    Ok(())
}

fn print_keys(keys: &[TeamKey], format: Format) {
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "team": k.team,
                "status": if k.revoked_at.is_some() { "revoked" } else { "live" },
                "created": china_timestamp(k.created_at),
                "revoked": k.revoked_at.map(china_timestamp),
                "rules": serde_json::from_str::<serde_json::Value>(&k.rules).unwrap_or_default(),
            })
        })
        .collect();
    match format {
        Format::Json => println!("{}", serde_json::Value::Array(rows)),
        Format::Text => {
            for (key, row) in keys.iter().zip(&rows) {
                let status = row["status"].as_str().unwrap_or_default();
                println!(
                    "{:<24} {status:<8} since {}  {}",
                    key.team,
                    row["created"].as_str().unwrap_or_default(),
                    rules_text(&key.rules)
                );
            }
        }
    }
}

/// `telecom3,idcard; 500/day; reuse 30d; purpose "payouts"`.
fn rules_text(json: &str) -> String {
    let Ok(rules) = serde_json::from_str::<TeamRules>(json) else { return json.to_owned() };
    let mut parts =
        vec![if rules.products.is_empty() { "all products".to_owned() } else { rules.products.join(",") }];
    parts.extend(rules.max_billed_per_day.map(|n| format!("{n}/day")));
    parts.extend(rules.max_billed_per_month.map(|n| format!("{n}/month")));
    parts.extend(rules.reuse_within_secs.map(|s| format!("reuse {}", humanize(Duration::from_secs(s)))));
    parts.extend(rules.purpose.map(|p| format!("purpose {p:?}")));
    parts.join("; ")
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else {
        format!("{s}s")
    }
}

fn print_log(actions: &[AdminAction], format: Format) {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = actions
                .iter()
                .map(|a| serde_json::json!({"at": china_timestamp(a.at), "by": a.by, "action": a.action, "team": a.team}))
                .collect();
            println!("{}", serde_json::Value::Array(rows));
        }
        Format::Text => {
            for a in actions {
                println!("{}  {:<16} {:<7} {}", china_timestamp(a.at), a.by, a.action, a.team);
            }
        }
    }
}
