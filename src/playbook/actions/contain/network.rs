//! The network cut. Per VPC, two groups breakglass owns (found by name and tag, created
//! once): `breakglass-untrack` allows everything, so connections through it become
//! untracked; `breakglass-quarantine` allows nothing in and, optionally, HTTPS out to the
//! VPC endpoints' group so the SSM agent stays reachable. Each interface gets the untrack
//! group, then the quarantine group: a group change alone leaves tracked connections open,
//! untracked ones are cut by the next change. An interface never stays in the untrack group:
//! the quarantine swap is retried, else the interface goes back to its own groups.

use std::collections::BTreeMap;

use serde_json::json;

use super::calls::*;
use super::facts::Facts;
use super::outcome::Outcome;
use super::record::IsolationRecord;
use crate::aws::{AwsError, Ec2ContainApi, Ec2Filter, Ec2GroupsApi, Rule, SecurityGroup};
use crate::playbook::exec::{StepCtx, StepError};

/// Tag marking the groups breakglass owns, with their role as value.
pub const ROLE_TAG: &str = "breakglass:role";

/// The two groups of a VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Quarantine,
    Untrack,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Quarantine => "breakglass-quarantine",
            Role::Untrack => "breakglass-untrack",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Role::Quarantine => "quarantine",
            Role::Untrack => "untrack",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Role::Quarantine => {
                "breakglass quarantine: no inbound; outbound only to the SSM endpoints if set"
            }
            Role::Untrack => {
                "breakglass: allows all, so connections become untracked before quarantine"
            }
        }
    }
}

fn allows_everything(rules: &[Rule], v4: bool) -> bool {
    rules.iter().any(|r| {
        r.protocol == "-1"
            && if v4 {
                r.cidrs.iter().any(|c| c == "0.0.0.0/0")
            } else {
                r.ipv6_cidrs.iter().any(|c| c == "::/0")
            }
    })
}

fn is_endpoint_rule(rule: &Rule, endpoint: &str) -> bool {
    rule.protocol == "tcp"
        && rule.from_port == Some(443)
        && rule.to_port == Some(443)
        && rule.groups == [endpoint]
        && rule.cidrs.is_empty()
        && rule.ipv6_cidrs.is_empty()
        && rule.prefix_lists.is_empty()
}

/// What is wrong with the quarantine group's rules (empty when it is as it must be).
pub fn quarantine_problems(group: &SecurityGroup, endpoint: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    if !group.ingress.is_empty() {
        problems.push(format!("{} allows inbound traffic", group.id));
    }
    for rule in &group.egress {
        if !endpoint.is_some_and(|e| is_endpoint_rule(rule, e)) {
            problems.push(format!(
                "{} allows outbound {} {:?}-{:?} to {:?}{:?}{:?}",
                group.id,
                rule.protocol,
                rule.from_port,
                rule.to_port,
                rule.cidrs,
                rule.ipv6_cidrs,
                rule.groups
            ));
        }
    }
    if let Some(endpoint) = endpoint
        && !group.egress.iter().any(|r| is_endpoint_rule(r, endpoint))
    {
        problems.push(format!("{} lacks HTTPS to {endpoint}", group.id));
    }
    problems
}

/// Reads a security group by id.
pub async fn describe_group(
    ctx: &StepCtx<'_>,
    group_id: &str,
) -> Result<Option<SecurityGroup>, StepError> {
    let filters = [Ec2Filter {
        name: "group-id".into(),
        values: vec![group_id.to_owned()],
    }];
    let groups = ctx
        .read(
            &DESCRIBE_SECURITY_GROUPS,
            json!({ "filters": { "group-id": [group_id] } }),
            ctx.ec2().describe_security_groups(&filters),
        )
        .await?;
    Ok(groups.into_iter().next())
}

/// The VPC's groups with these roles, in the order asked, found with one call; a group
/// with a breakglass name but without breakglass's tag is an error.
async fn find(
    ctx: &StepCtx<'_>,
    vpc: &str,
    roles: &[Role],
) -> Result<Vec<Option<SecurityGroup>>, StepError> {
    let names: Vec<String> = roles.iter().map(|r| r.name().to_owned()).collect();
    let filters = [
        Ec2Filter {
            name: "vpc-id".into(),
            values: vec![vpc.to_owned()],
        },
        Ec2Filter {
            name: "group-name".into(),
            values: names.clone(),
        },
    ];
    let params = json!({ "filters": { "vpc-id": [vpc], "group-name": names } });
    let found = ctx
        .read(
            &DESCRIBE_SECURITY_GROUPS,
            params,
            ctx.ec2().describe_security_groups(&filters),
        )
        .await?;
    roles
        .iter()
        .map(|&role| match found.iter().find(|g| g.name == role.name()) {
            Some(group) if group.tags.get(ROLE_TAG).map(String::as_str) != Some(role.tag()) => {
                Err(StepError::Failed(format!(
                    "security group {} in {vpc} is named {} but does not carry {ROLE_TAG}={}: \
                     it was not made by breakglass; check it, then rename it or add the tag",
                    group.id,
                    role.name(),
                    role.tag()
                )))
            }
            other => Ok(other.cloned()),
        })
        .collect()
}

/// An error that only means "already so" when another target set the group up meanwhile.
fn already(err: &StepError, code: &str) -> bool {
    matches!(err, StepError::Aws(AwsError { code: Some(c), .. }) if c == code)
}

/// The VPC's quarantine and untrack groups, found with one call, created when missing
/// (then found again, once) and with their rules made right. `None` for a group a dry run
/// would create.
async fn ensure_groups(
    ctx: &StepCtx<'_>,
    vpc: &str,
    endpoint: Option<&str>,
    out: &mut Outcome,
) -> Result<(Option<String>, Option<String>), StepError> {
    const ROLES: [Role; 2] = [Role::Quarantine, Role::Untrack];
    let mut groups = find(ctx, vpc, &ROLES).await?;
    let mut created = false;
    for (role, group) in ROLES.iter().zip(&groups) {
        if group.is_none() {
            created |= create(ctx, vpc, *role, out).await?;
        }
    }
    if created {
        groups = find(ctx, vpc, &ROLES).await?;
    }
    let mut ids = [None, None];
    for ((role, group), id) in ROLES.into_iter().zip(groups).zip(&mut ids) {
        let Some(group) = group else {
            if ctx.dry_run() {
                continue;
            }
            return Err(StepError::Failed(format!(
                "{} vanished right after its creation",
                role.name()
            )));
        };
        match role {
            Role::Quarantine => fix_quarantine(ctx, &group, endpoint, out).await?,
            Role::Untrack => fix_untrack(ctx, &group, out).await?,
        }
        *id = Some(group.id);
    }
    let [quarantine, untrack] = ids;
    Ok((quarantine, untrack))
}

/// Creates the group, tagged as breakglass's; `false` when nothing was created (a dry run).
async fn create(
    ctx: &StepCtx<'_>,
    vpc: &str,
    role: Role,
    out: &mut Outcome,
) -> Result<bool, StepError> {
    let tags = BTreeMap::from([
        (ROLE_TAG.to_owned(), role.tag().to_owned()),
        ("Name".to_owned(), role.name().to_owned()),
    ]);
    let params = json!({
        "vpc_id": vpc, "group_name": role.name(),
        "description": role.description(), "tags": tags,
    });
    let created = ctx
        .mutate(
            &CREATE_SECURITY_GROUP,
            params,
            ctx.ec2().create_security_group(
                vpc,
                role.name(),
                role.description(),
                &tags,
                ctx.dry_run(),
            ),
        )
        .await;
    match created {
        Ok(created) => {
            out.changed(format!("{} created in {vpc}", role.name()));
            Ok(created.id.is_some())
        }
        // Another target of this run (or another responder) created it first.
        Err(err) if already(&err, "InvalidGroup.Duplicate") => Ok(true),
        Err(err) => Err(err),
    }
}

async fn fix_quarantine(
    ctx: &StepCtx<'_>,
    group: &SecurityGroup,
    endpoint: Option<&str>,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let ec2 = ctx.ec2();
    let dry_run = ctx.dry_run();
    if !group.ingress.is_empty() {
        return Err(StepError::Failed(format!(
            "the quarantine group {} allows inbound traffic breakglass never adds; remove those \
             rules (or the group) and run again",
            group.id
        )));
    }
    // Egress: revoke what is not the endpoint rule — a new group's default allow-all, or
    // one left by an interrupted creation.
    let extra: Vec<Rule> = group
        .egress
        .iter()
        .filter(|r| !endpoint.is_some_and(|e| is_endpoint_rule(r, e)))
        .cloned()
        .collect();
    if !extra.is_empty() {
        let unexpected = extra.iter().any(|r| r.protocol != "-1");
        if unexpected {
            return Err(StepError::Failed(format!(
                "the quarantine group {} has outbound rules breakglass did not add: {}",
                group.id,
                quarantine_problems(group, endpoint).join("; ")
            )));
        }
        let result = visible(ctx, || {
            ctx.mutate(
                &REVOKE_EGRESS,
                json!({ "group_id": group.id, "rules": extra }),
                ec2.revoke_egress(&group.id, &extra, dry_run),
            )
        })
        .await;
        match result {
            Ok(_) => out.changed(format!("{} egress closed", group.id)),
            Err(err) if already(&err, "InvalidPermission.NotFound") => {}
            Err(err) => return Err(err),
        }
    }
    if let Some(endpoint) = endpoint
        && !group.egress.iter().any(|r| is_endpoint_rule(r, endpoint))
    {
        let rule = Rule::https_to_group(endpoint);
        let result = visible(ctx, || {
            ctx.mutate(
                &AUTHORIZE_EGRESS,
                json!({ "group_id": group.id, "rule": rule }),
                ec2.authorize_egress(&group.id, &rule, dry_run),
            )
        })
        .await;
        match result {
            Ok(_) => out.changed(format!(
                "{} allows HTTPS to the SSM endpoints ({endpoint})",
                group.id
            )),
            Err(err) if already(&err, "InvalidPermission.Duplicate") => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

async fn fix_untrack(
    ctx: &StepCtx<'_>,
    group: &SecurityGroup,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let ec2 = ctx.ec2();
    let dry_run = ctx.dry_run();
    let all = Rule::allow_all();
    if !(allows_everything(&group.ingress, true) && allows_everything(&group.ingress, false)) {
        let result = visible(ctx, || {
            ctx.mutate(
                &AUTHORIZE_INGRESS,
                json!({ "group_id": group.id, "rule": all }),
                ec2.authorize_ingress(&group.id, &all, dry_run),
            )
        })
        .await;
        match result {
            Ok(_) => out.changed(format!("{} allows all inbound", group.id)),
            Err(err) if already(&err, "InvalidPermission.Duplicate") => {}
            Err(err) => return Err(err),
        }
    }
    let mut missing = Rule::allow_all();
    if allows_everything(&group.egress, true) {
        missing.cidrs.clear();
    }
    if allows_everything(&group.egress, false) {
        missing.ipv6_cidrs.clear();
    }
    if !(missing.cidrs.is_empty() && missing.ipv6_cidrs.is_empty()) {
        let result = visible(ctx, || {
            ctx.mutate(
                &AUTHORIZE_EGRESS,
                json!({ "group_id": group.id, "rule": missing }),
                ec2.authorize_egress(&group.id, &missing, dry_run),
            )
        })
        .await;
        match result {
            Ok(_) => out.changed(format!("{} allows all outbound", group.id)),
            Err(err) if already(&err, "InvalidPermission.Duplicate") => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Attempts of a swap that closes an interface (to the quarantine group, or back to its
/// own groups), and the first pause between them, doubling.
const CLOSE_ATTEMPTS: u32 = 6;
const CLOSE_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Isolation: every interface to the untrack group, then to the quarantine group. An
/// interface is never left in the untrack group (which allows all traffic): the quarantine
/// swap is retried, then the interface goes back to its own groups (as `record` has them),
/// and only if that fails too does the step end with it open — saying so. Both closing swaps
/// are made even after Ctrl-C. The longest time an interface spent in the untrack group is
/// part of the outcome.
pub async fn quarantine(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    record: &IsolationRecord,
    endpoint: Option<&str>,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let vpc = facts.vpc_id()?;
    let (quarantine, untrack) = ensure_groups(ctx, vpc, endpoint, out).await?;
    let mut longest: Option<std::time::Duration> = None;
    let mut failures = Vec::new();
    for eni in facts.interfaces() {
        let current: Vec<String> = eni.groups.iter().map(|g| g.id.clone()).collect();
        if quarantine.as_ref().is_some_and(|q| current == [q.clone()]) {
            out.kept(format!("{} quarantined", eni.id));
            continue;
        }
        // In a dry run the groups may not exist yet: the interface's own groups stand in,
        // which still checks the permission to change this interface.
        let untrack = untrack.clone().map_or_else(|| current.clone(), |u| vec![u]);
        let quarantine = quarantine
            .clone()
            .map_or_else(|| current.clone(), |q| vec![q]);
        // Its own groups as recorded before any change (an interrupted run may have left
        // it in the untrack group).
        let own = record
            .interfaces
            .iter()
            .find(|r| r.id == eni.id)
            .map_or_else(
                || current.clone(),
                |r| r.groups.iter().map(|g| g.id.clone()).collect(),
            );
        let opened = std::time::Instant::now();
        if current != untrack {
            let ec2 = ctx.ec2();
            visible(ctx, || {
                ctx.mutate(
                    &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
                    json!({ "network_interface_id": eni.id, "groups": untrack }),
                    ec2.set_interface_groups(&eni.id, &untrack, ctx.dry_run()),
                )
            })
            .await?;
            changed_groups(&eni.id, &untrack, "untracked", out);
        } else if !ctx.dry_run() {
            ctx.note(
                "warning",
                format!(
                    "{} was in the untrack group (left by an interrupted run): closing it now",
                    eni.id
                ),
            )?;
        }
        let failure = match close(ctx, &eni.id, &quarantine, "quarantined", out).await {
            Ok(()) => None,
            Err(err) => Some(
                match close(ctx, &eni.id, &own, "back in its own groups", out).await {
                    Ok(()) => format!(
                        "{}: the quarantine swap failed ({}); it is back in its own groups \
                         ({}), NOT isolated",
                        eni.id,
                        reason(&err),
                        own.join(",")
                    ),
                    Err(back) => format!(
                        "{} IS STILL IN THE UNTRACK GROUP, which allows all traffic: the \
                         quarantine swap failed ({}) and so did the way back to its own groups \
                         ({}); resume the run (`breakglass resume`) or set the interface's \
                         groups by hand now",
                        eni.id,
                        reason(&err),
                        reason(&back)
                    ),
                },
            ),
        };
        if !ctx.dry_run() {
            longest = longest.max(Some(opened.elapsed()));
        }
        failures.extend(failure);
    }
    if let Some(longest) = longest {
        out.changed(format!(
            "longest in the untrack group: {:.1} s",
            longest.as_secs_f64()
        ));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(StepError::Failed(failures.join("; ")))
    }
}

fn reason(err: &StepError) -> String {
    match err {
        StepError::Aws(e) => e.to_string(),
        StepError::Failed(m) => m.clone(),
        StepError::Interrupted => "interrupted".into(),
        StepError::Audit(e) => format!("the audit record could not be written: {e}"),
    }
}

/// A swap that closes an interface: retried with backoff when AWS may still make it
/// (throttling, a server error, a lost answer, a group not yet visible), made even after
/// Ctrl-C.
async fn close(
    ctx: &StepCtx<'_>,
    interface: &str,
    groups: &[String],
    what: &str,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let mut pause = CLOSE_PAUSE;
    let mut attempt = 1;
    loop {
        let made = ctx
            .mutate_despite_cancel(
                &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
                json!({ "network_interface_id": interface, "groups": groups }),
                ctx.ec2()
                    .set_interface_groups(interface, groups, ctx.dry_run()),
            )
            .await;
        match made {
            Ok(_) => {
                changed_groups(interface, groups, what, out);
                return Ok(());
            }
            Err(StepError::Aws(err)) if attempt < CLOSE_ATTEMPTS && worth_retrying(&err) => {
                ctx.progress(format!(
                    "{interface}: the swap to {what} failed ({}); trying again in {} ms",
                    err.code.as_deref().unwrap_or("error"),
                    pause.as_millis()
                ));
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Attempts of a call that names a group just created, while EC2 does not see it yet
/// (`InvalidGroup.NotFound`: eventual consistency), with the close schedule's pauses.
async fn visible<T, F, Fut>(ctx: &StepCtx<'_>, mut call: F) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StepError>>,
{
    let mut pause = CLOSE_PAUSE;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(err) if attempt < CLOSE_ATTEMPTS && already(&err, "InvalidGroup.NotFound") => {
                ctx.progress(format!(
                    "a new security group is not visible yet (EC2's eventual consistency); \
                     trying again in {} ms",
                    pause.as_millis()
                ));
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Errors a repeat of the same swap can get past: not a refusal (an SCP, a missing
/// permission, a bad argument), which stays a refusal.
fn worth_retrying(err: &AwsError) -> bool {
    err.retryable
        || err.answer_lost
        || err.http_status.is_some_and(|s| s >= 500)
        || err.code.as_deref() == Some("InvalidGroup.NotFound")
}

async fn set_groups(
    ctx: &StepCtx<'_>,
    interface: &str,
    groups: &[String],
    what: &str,
    out: &mut Outcome,
) -> Result<(), StepError> {
    ctx.mutate(
        &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
        json!({ "network_interface_id": interface, "groups": groups }),
        ctx.ec2()
            .set_interface_groups(interface, groups, ctx.dry_run()),
    )
    .await?;
    changed_groups(interface, groups, what, out);
    Ok(())
}

fn changed_groups(interface: &str, groups: &[String], what: &str, out: &mut Outcome) {
    if out.dry_run() {
        out.changed(format!("{interface} {what}"));
    } else {
        out.changed(format!("{interface} {what} ({})", groups.join(",")));
    }
}

/// Release: every interface back to its recorded groups.
pub async fn restore(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    for recorded in &record.interfaces {
        let want: Vec<String> = recorded.groups.iter().map(|g| g.id.clone()).collect();
        let Some(eni) = facts.interfaces().iter().find(|e| e.id == recorded.id) else {
            out.kept(format!("{} is no longer attached", recorded.id));
            continue;
        };
        let current: Vec<String> = eni.groups.iter().map(|g| g.id.clone()).collect();
        if sorted(&current) == sorted(&want) {
            out.kept(format!("{} has its groups", eni.id));
        } else {
            set_groups(ctx, &eni.id, &want, "restored", out).await?;
        }
    }
    Ok(())
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Interfaces not (only) in the quarantine group.
pub fn isolated_problems(facts: &Facts, quarantine: &str) -> Vec<String> {
    facts
        .interfaces()
        .iter()
        .filter(|e| e.groups.len() != 1 || e.groups[0].id != quarantine)
        .map(|e| {
            let ids: Vec<&str> = e.groups.iter().map(|g| g.id.as_str()).collect();
            format!("{} is in {}", e.id, ids.join(","))
        })
        .collect()
}

/// Interfaces whose groups differ from the record.
pub fn released_problems(facts: &Facts, record: &IsolationRecord) -> Vec<String> {
    record
        .interfaces
        .iter()
        .filter_map(|r| {
            let eni = facts.interfaces().iter().find(|e| e.id == r.id)?;
            let want: Vec<String> = r.groups.iter().map(|g| g.id.clone()).collect();
            let now: Vec<String> = eni.groups.iter().map(|g| g.id.clone()).collect();
            (sorted(&want) != sorted(&now)).then(|| {
                format!(
                    "{} is in {} instead of {}",
                    eni.id,
                    now.join(","),
                    want.join(",")
                )
            })
        })
        .collect()
}

/// The id of the VPC's quarantine group, if it exists.
pub async fn quarantine_group(
    ctx: &StepCtx<'_>,
    vpc: &str,
) -> Result<Option<SecurityGroup>, StepError> {
    Ok(find(ctx, vpc, &[Role::Quarantine]).await?.pop().flatten())
}
