//! `collect-volatile`: the state a reboot erases — processes, connections, users, loaded
//! modules, routes, mounts, the X-Road services and the `/etc/xroad` and `/var/log/xroad`
//! listings — collected by Run Command into one archive, hashed on the host, uploaded by a
//! presigned PUT, and checked in S3.

use std::time::Duration;

use serde_saphyr::Spanned;

use super::args::{self, CollectArgs, CollectDoc, CollectSpec};
use super::run_command::{
    DECRYPT_EVIDENCE, DESCRIBE_INSTANCE_INFORMATION, ENCRYPT_EVIDENCE, GET_COMMAND_INVOCATION,
    GET_EVIDENCE, LIST_COMMANDS, PUT_EVIDENCE, SEND_COMMAND, agent_ready, evidence_key,
    parse_report, redact_script, run_script, script_start, script_upload, verify_upload,
};
use crate::aws::EvidenceStoreApi;
use crate::playbook::actions::{Action, ActionInfo, Capability, PlanCtx, Planned};
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;

pub static INFO: ActionInfo = ActionInfo {
    name: "collect-volatile",
    summary: "Collect processes, connections, users, modules, routes and the X-Road state \
              through Run Command into one archive in S3, hash-checked",
    calls: &[
        DESCRIBE_INSTANCE_INFORMATION,
        LIST_COMMANDS,
        SEND_COMMAND,
        GET_COMMAND_INVOCATION,
        PUT_EVIDENCE,
        GET_EVIDENCE,
        ENCRYPT_EVIDENCE,
        DECRYPT_EVIDENCE,
    ],
    confirm_by_default: false,
    needs: &[Capability::SsmAgent, Capability::Memory],
    cuts: &[],
};

/// What is collected: `(file name, command)`; each command's failure is kept in its file.
pub const COLLECT: &[(&str, &str)] = &[
    ("date", "date -u +%Y-%m-%dT%H:%M:%SZ"),
    ("uname", "uname -a"),
    ("uptime", "uptime"),
    ("processes", "ps auxwwf"),
    ("connections", "ss -tanupe"),
    ("listening", "ss -tlnupe"),
    ("users", "who -a"),
    ("logins", "last -n 50"),
    ("modules", "lsmod"),
    ("addresses", "ip addr"),
    ("routes", "ip route"),
    ("neighbours", "ip neigh"),
    ("mounts", "cat /proc/mounts"),
    (
        "xroad-units",
        "systemctl list-units 'xroad*' --all --no-pager",
    ),
    ("xroad-status", "systemctl status 'xroad*' --no-pager"),
    ("etc-xroad", "ls -la --time-style=full-iso -R /etc/xroad"),
    (
        "var-log-xroad",
        "ls -la --time-style=full-iso -R /var/log/xroad",
    ),
];

/// The `collect-volatile` action.
pub struct CollectVolatile;

impl Action for CollectVolatile {
    type Doc = Option<CollectDoc>;
    type Spec = CollectSpec;
    type Args = CollectArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<CollectDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<CollectSpec> {
        args::check(c, doc, known, "10")
    }

    fn plan(spec: &CollectSpec, target: &PlanCtx<'_>) -> Result<Planned<CollectArgs>, String> {
        let args = args::render(spec, target)?;
        let server = target.server;
        let id = &server.instance_id;
        let calls = vec![
            PlannedCall::new(
                &DESCRIBE_INSTANCE_INFORMATION,
                id,
                "the SSM agent must be online, the host Linux",
            ),
            PlannedCall::new(
                &LIST_COMMANDS,
                id,
                "look for this run's command (a resumed run follows it)",
            ),
            PlannedCall::new(
                &SEND_COMMAND,
                id,
                format!("collect {} listings, archive, hash, upload", COLLECT.len()),
            ),
            PlannedCall::new(&GET_COMMAND_INVOCATION, id, "follow it"),
            PlannedCall::new(
                &GET_EVIDENCE,
                format!(
                    "s3://{}/{}<incident>/{id}/<run>/volatile.tar.gz",
                    args.bucket, args.prefix
                ),
                "read it back: size and SHA-256",
            ),
        ];
        Ok(Planned {
            args,
            calls,
            notes: Vec::new(),
        })
    }

    async fn execute(ctx: &StepCtx<'_>, args: &CollectArgs) -> Result<StepResult, StepError> {
        agent_ready(ctx).await?;
        let key = evidence_key(&args.prefix, ctx, "volatile.tar.gz");
        if ctx.dry_run() {
            let id = ctx.instance_id();
            let instance_arn = format!(
                "arn:aws:ec2:{}:{}:instance/{id}",
                ctx.region(),
                ctx.account()
            );
            let verdict = ctx.simulate(&SEND_COMMAND, &instance_arn).await?;
            return Ok(StepResult::new(
                verdict.status,
                format!(
                    "would collect volatile data to s3://{}/{key}: {}",
                    args.bucket, verdict.detail
                ),
            ));
        }
        let timeout = Duration::from_secs(u64::from(args.timeout_minutes) * 60);
        let put_url = ctx
            .aws_s3()
            .presign_put(&args.bucket, &key, timeout + Duration::from_secs(15 * 60))
            .await?;
        let script = script(&put_url, &args.work_dir);
        let recorded = redact_script(&script, &[&put_url]);
        let invocation = run_script(ctx, &script, &recorded, timeout, "collect-volatile").await?;
        let host = parse_report(&invocation.stdout)
            .ok_or_else(|| StepError::Failed("the host reported no hash and size".into()))?;
        let stored = verify_upload(ctx, &args.bucket, &key, &host).await?;
        let evidence = format!(
            "volatile data s3://{}/{key}: {} bytes; sha256 host {} = S3 {}",
            args.bucket, stored.size, host.0, stored.sha256
        );
        ctx.note("info", evidence.clone())?;
        Ok(StepResult::new(StepStatus::Succeeded, evidence))
    }
}

/// The host script. Only fixed commands run; the values are single-quoted.
pub fn script(put_url: &str, work_dir: &str) -> String {
    let runs: String = COLLECT
        .iter()
        .map(|(name, command)| format!("run {name} {command}\n"))
        .collect();
    let collect = format!(
        r##"d="$work/volatile"; mkdir "$d"
run() {{ name=$1; shift; {{ echo "# $*"; "$@"; echo "# exit $?"; }} > "$d/$name.txt" 2>&1; }}
{runs}tar -C "$work" -czf "$work/volatile.tar.gz" volatile || fail 6 "cannot archive"
"##
    );
    format!(
        "{}{collect}{}",
        script_start(work_dir, "tar"),
        script_upload("volatile.tar.gz", put_url)
    )
}
