//! `capture-memory`: acquire the target's memory with the organisation's pinned tool (AVML
//! by default) through Run Command: the host fetches the tool from S3 by a presigned URL,
//! checks its SHA-256, acquires, hashes, and uploads the image by a presigned PUT;
//! breakglass reads it back and records the host's, S3's and the tool's hashes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::args::{self, CollectDoc, CollectSpec};
use super::run_command::{
    DECRYPT_EVIDENCE, DESCRIBE_INSTANCE_INFORMATION, ENCRYPT_EVIDENCE, GET_COMMAND_INVOCATION,
    GET_EVIDENCE, LIST_COMMANDS, PUT_EVIDENCE, REPORT_PREFIX, SEND_COMMAND, agent_ready,
    evidence_key, kept_path, parse_report, redact_script, run_script, script_start, script_upload,
    shell_quote, verify_upload,
};
use crate::aws::EvidenceStoreApi;
use crate::config::ToolLocation;
use crate::playbook::actions::{
    Access, Action, ActionInfo, ApiCall, Capability, PlanCtx, Planned, Resource, Service,
};
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;

const DESCRIBE_INSTANCES: ApiCall = crate::playbook::actions::tag::DESCRIBE_INSTANCES;
/// The presigned `GET` of the tool the host makes, authorized as the caller.
const GET_TOOL: ApiCall = ApiCall {
    service: Service::S3,
    operation: "GetObject",
    access: Access::Read,
    resource: Resource::ToolObject,
};

pub static INFO: ActionInfo = ActionInfo {
    name: "capture-memory",
    summary: "Acquire the memory with the pinned tool through Run Command, upload it by a \
              presigned URL, verify size and SHA-256 in S3",
    calls: &[
        DESCRIBE_INSTANCE_INFORMATION,
        DESCRIBE_INSTANCES,
        LIST_COMMANDS,
        SEND_COMMAND,
        GET_COMMAND_INVOCATION,
        GET_TOOL,
        PUT_EVIDENCE,
        GET_EVIDENCE,
        ENCRYPT_EVIDENCE,
        DECRYPT_EVIDENCE,
    ],
    confirm_by_default: false,
    needs: &[Capability::SsmAgent, Capability::Memory],
    cuts: &[],
};

/// Largest object a single presigned `PUT` can carry.
pub const SINGLE_PUT_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// `capture-memory`'s arguments, rendered (the tools and bucket come from the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryArgs {
    pub bucket: String,
    pub prefix: String,
    /// Per architecture (`x86_64`, `arm64`).
    pub tools: BTreeMap<String, ToolLocation>,
    pub timeout_minutes: u32,
    /// Directory on the host for the image before upload (an evidence volume, ideally).
    pub work_dir: String,
}

/// The `capture-memory` action.
pub struct CaptureMemory;

impl Action for CaptureMemory {
    type Doc = Option<CollectDoc>;
    type Spec = CollectSpec;
    type Args = MemoryArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<CollectDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<CollectSpec> {
        args::check(c, doc, known, "60")
    }

    fn plan(spec: &CollectSpec, target: &PlanCtx<'_>) -> Result<Planned<MemoryArgs>, String> {
        let collect = args::render(spec, target)?;
        let args = MemoryArgs {
            bucket: collect.bucket,
            prefix: collect.prefix,
            tools: target.run.evidence.memory_tool.clone(),
            timeout_minutes: collect.timeout_minutes,
            work_dir: collect.work_dir,
        };
        let server = target.server;
        let id = &server.instance_id;
        let object = format!(
            "s3://{}/{}<incident>/{id}/<run>/memory.lime",
            args.bucket, args.prefix
        );
        let calls = vec![
            PlannedCall::new(
                &DESCRIBE_INSTANCE_INFORMATION,
                id,
                "the SSM agent must be online, the host Linux",
            ),
            PlannedCall::new(&DESCRIBE_INSTANCES, id, "the architecture picks the tool"),
            PlannedCall::new(
                &LIST_COMMANDS,
                id,
                "look for this run's command (a resumed run follows it)",
            ),
            PlannedCall::new(
                &SEND_COMMAND,
                id,
                "fetch + verify the tool, acquire, hash, upload (presigned URLs)",
            ),
            PlannedCall::new(
                &GET_COMMAND_INVOCATION,
                id,
                format!("follow it (up to {} min)", args.timeout_minutes),
            ),
            PlannedCall::new(&GET_EVIDENCE, &object, "read it back: size and SHA-256"),
        ];
        let mut notes = vec![format!(
            "the image is written to {} on the host before upload (use an evidence volume to keep \
             the instance's disks untouched)",
            args.work_dir
        )];
        if args.tools.is_empty() {
            notes.push(
                "warning: no memory tool in the config (`[evidence.memory_tool.<arch>]`)".into(),
            );
        }
        Ok(Planned { args, calls, notes })
    }

    async fn execute(ctx: &StepCtx<'_>, args: &MemoryArgs) -> Result<StepResult, StepError> {
        agent_ready(ctx).await?;
        let id = ctx.instance_id();
        let instance = crate::playbook::actions::tag::read_target(ctx).await?;
        let arch = instance
            .architecture
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let tool = args.tools.get(&arch).ok_or_else(|| {
            StepError::Failed(format!(
                "no memory acquisition tool for {arch}: stage one in S3 and set \
                 `[evidence.memory_tool.{arch}]` (docs/evidence.md)"
            ))
        })?;
        let (tool_bucket, tool_key) = tool.bucket_key().ok_or_else(|| {
            StepError::Failed(format!(
                "tool location `{}` is not s3://bucket/key",
                tool.s3
            ))
        })?;
        let key = evidence_key(&args.prefix, ctx, "memory.lime");
        if ctx.dry_run() {
            let instance_arn = format!(
                "arn:aws:ec2:{}:{}:instance/{id}",
                ctx.region(),
                ctx.account()
            );
            let send = ctx.simulate(&SEND_COMMAND, &instance_arn).await?;
            let put = ctx
                .simulate(
                    &PUT_EVIDENCE,
                    &format!("arn:aws:s3:::{}/{key}", args.bucket),
                )
                .await?;
            let worst = [send, put]
                .into_iter()
                .max_by_key(|r| match r.status {
                    StepStatus::WouldFail => 2,
                    StepStatus::NotVerifiable => 1,
                    _ => 0,
                })
                .unwrap_or_else(|| StepResult::new(StepStatus::NotVerifiable, ""));
            return Ok(StepResult::new(
                worst.status,
                format!(
                    "would capture {arch} memory with {} to s3://{}/{key}: {}",
                    tool.s3, args.bucket, worst.detail
                ),
            ));
        }
        let timeout = Duration::from_secs(u64::from(args.timeout_minutes) * 60);
        let expires = timeout + Duration::from_secs(15 * 60);
        let s3 = ctx.aws_s3();
        let tool_url = s3.presign_get(tool_bucket, tool_key, expires).await?;
        let put_url = s3.presign_put(&args.bucket, &key, expires).await?;
        let script = script(
            &tool_url,
            &tool.sha256,
            &put_url,
            &args.work_dir,
            SINGLE_PUT_MAX,
        );
        let recorded = redact_script(&script, &[&tool_url, &put_url]);
        let invocation = run_script(ctx, &script, &recorded, timeout, "capture-memory").await?;
        if let Some(kept) = kept_path(&invocation.stdout) {
            let (sha, size) = parse_report(&invocation.stdout).unwrap_or_default();
            let evidence = format!(
                "memory image too large for one upload ({size} bytes): kept on the host at {kept} \
                 (sha256 {sha}, tool {} sha256 {} verified); snapshot the volume it is on",
                tool.s3, tool.sha256
            );
            ctx.note("warning", evidence.clone())?;
            return Ok(StepResult::new(StepStatus::Succeeded, evidence));
        }
        let host = parse_report(&invocation.stdout).ok_or_else(|| {
            StepError::Failed(format!(
                "the host reported no hash and size; output: {}",
                invocation.stdout.lines().last().unwrap_or("(none)")
            ))
        })?;
        let stored = verify_upload(ctx, &args.bucket, &key, &host).await?;
        let evidence = format!(
            "memory image s3://{}/{key}: {} bytes; sha256 host {} = S3 {}; tool {} sha256 {} \
             verified on the host",
            args.bucket, stored.size, host.0, stored.sha256, tool.s3, tool.sha256
        );
        ctx.note("info", evidence.clone())?;
        Ok(StepResult::new(StepStatus::Succeeded, evidence))
    }
}

/// The host script. Every value is single-quoted; nothing from the host is evaluated.
/// Images larger than `max_upload` bytes are kept in `work_dir` instead of uploaded.
pub fn script(
    tool_url: &str,
    tool_sha256: &str,
    put_url: &str,
    work_dir: &str,
    max_upload: u64,
) -> String {
    let acquire = format!(
        r##"presigned {tool_url} -o "$work/tool" || fail 4 "cannot fetch the acquisition tool"
have=$(sha256sum < "$work/tool" | cut -d' ' -f1)
[ "$have" = {tool_sha256} ] || fail 5 "acquisition tool hash mismatch: got $have"
chmod 700 "$work/tool"
"$work/tool" "$work/memory.lime" || fail 6 "the acquisition tool failed"
size=$(stat -c %s "$work/memory.lime")
[ "$size" -gt 0 ] || fail 6 "the memory image is empty"
if [ "$size" -gt {max_upload} ]; then
  sum=$(sha256sum < "$work/memory.lime" | cut -d' ' -f1)
  kept={work_dir}/breakglass-memory-$sum.lime
  mv "$work/memory.lime" "$kept" || fail 7 "cannot keep the image in the work directory"
  echo "{REPORT_PREFIX} sha256=$sum size=$size kept=$kept"
  exit 0
fi
"##,
        tool_url = shell_quote(tool_url),
        tool_sha256 = shell_quote(tool_sha256),
        work_dir = shell_quote(work_dir),
    );
    format!(
        "{}{acquire}{}",
        script_start(work_dir, ""),
        script_upload("memory.lime", put_url)
    )
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    #[test]
    fn an_image_too_large_to_upload_is_kept_on_the_work_volume_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("avml");
        let fake = "#!/bin/sh\nprintf 'memory bytes' > \"$1\"\n";
        std::fs::write(&tool, fake).unwrap();
        let tool_sha = hex::encode(Sha256::digest(fake.as_bytes()));
        let work = dir.path().join("evidence");
        std::fs::create_dir(&work).unwrap();
        // Nothing listens on port 9: an attempted upload would fail the script.
        let script = super::script(
            &format!("file://{}", tool.display()),
            &tool_sha,
            "http://127.0.0.1:9/never",
            work.to_str().unwrap(),
            4,
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let sha = hex::encode(Sha256::digest(b"memory bytes"));
        let kept = super::super::run_command::kept_path(&stdout).unwrap();
        assert_eq!(
            kept,
            format!("{}/breakglass-memory-{sha}.lime", work.display())
        );
        assert_eq!(std::fs::read(&kept).unwrap(), b"memory bytes");
        assert_eq!(
            super::super::run_command::parse_report(&stdout),
            Some((sha, 12))
        );
    }
}
