//! `breakglass list`: discovery and its table / JSON reporters.

use super::args::ListArgs;
use crate::app::Settings;
use crate::app::{ExitCode, Result};
use crate::cli::output::{print_json, print_stdout};
use crate::inventory::{Inventory, Server, discover};
use crate::text::{Column, OutputFormat, Table, terminal_width};

pub async fn run(settings: &Settings, args: &ListArgs) -> Result<ExitCode> {
    let selection = settings.selection(args.all, &args.filters)?;
    let ctx = settings.aws_context().await?;
    let regions = settings.regions(&ctx)?;
    ctx.check_credentials().await?;
    let inventory = discover(&ctx, &regions, &selection).await?;
    for warning in &inventory.warnings {
        eprintln!("warning: {warning}");
    }
    match settings.output {
        OutputFormat::Json => print_json(&inventory)?,
        OutputFormat::Table => {
            if inventory.servers.is_empty() {
                eprintln!(
                    "No Security Servers found in {} (account {}) matching {}.\n\
                     hint: check `--region`, or use `--filter tag:Key=Value` or `--all`",
                    inventory.regions.join(", "),
                    inventory.account,
                    inventory.selection
                );
            } else {
                print_stdout(&render_table(&inventory, terminal_width()))?;
                eprintln!(
                    "{} server(s) in {} (account {}), selection: {}",
                    inventory.servers.len(),
                    inventory.regions.join(", "),
                    inventory.account,
                    inventory.selection
                );
            }
        }
    }
    Ok(ExitCode::Success)
}

/// The server table at `width` columns; extra columns appear as the width allows.
pub fn render_table(inventory: &Inventory, width: usize) -> String {
    let mut table = Table::new(vec![
        Column::fixed("INSTANCE"),
        Column::shrink("NAME", 8),
        Column::shrink("STATE", 7),
        Column::fixed("PRIVATE IP"),
        Column::optional("AZ", 10, 1),
        Column::shrink("SSM", 7),
        Column::shrink("ISOLATION", 8),
        Column::optional("INCIDENT", 8, 2),
        Column::optional("ASG", 8, 3),
        Column::optional("TARGET GROUPS", 10, 4),
        Column::optional("SECURITY GROUPS", 11, 6),
        Column::optional("PLATFORM", 8, 5),
        Column::optional("AGENT", 5, 7),
    ]);
    for server in &inventory.servers {
        table.row(row(server));
    }
    table.render(width)
}

fn row(s: &Server) -> Vec<String> {
    let dash = || "-".to_owned();
    vec![
        s.instance_id.clone(),
        s.name.clone().unwrap_or_else(dash),
        s.state.clone(),
        s.private_ip.clone().unwrap_or_else(dash),
        s.availability_zone.clone().unwrap_or_else(dash),
        s.ssm.ping_status.clone(),
        s.isolation.label().to_owned(),
        s.incident.clone().unwrap_or_else(dash),
        s.auto_scaling_group
            .as_ref()
            .map_or_else(dash, |a| format!("{} ({})", a.name, a.lifecycle_state)),
        if s.target_groups.is_empty() {
            dash()
        } else {
            s.target_groups.join(",")
        },
        s.security_groups
            .iter()
            .map(|g| g.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
        s.platform.clone(),
        s.ssm.agent_version.clone().unwrap_or_else(dash),
    ]
}
