//! Running a collection on the instance through SSM Run Command: the agent must be online
//! and the host Linux; the script gets presigned S3 URLs (never credentials), reports the
//! SHA-256 and size it computed, and breakglass reads the object back to check both.
//! Shared by `capture-memory` and `collect-volatile`.

use std::time::Duration;

use serde_json::json;

use crate::aws::{EvidenceStoreApi, Invocation, RunCommandApi, StoredObject};
use crate::playbook::actions::{Access, ApiCall, Resource, Service};
use crate::playbook::exec::{StepCtx, StepError};

pub(crate) const DESCRIBE_INSTANCE_INFORMATION: ApiCall = ApiCall::new(
    Service::Ssm,
    "DescribeInstanceInformation",
    Access::Read,
    Resource::Any,
);
pub(crate) const SEND_COMMAND: ApiCall = ApiCall::new(
    Service::Ssm,
    "SendCommand",
    Access::Write,
    Resource::RunShellScript,
);
/// Looks for this run's command, sent before an interruption, before sending another.
pub(crate) const LIST_COMMANDS: ApiCall =
    ApiCall::new(Service::Ssm, "ListCommands", Access::Read, Resource::Any);
pub(crate) const GET_COMMAND_INVOCATION: ApiCall = ApiCall::new(
    Service::Ssm,
    "GetCommandInvocation",
    Access::Read,
    Resource::Any,
);
/// The presigned `PUT` the host makes, authorized as the caller.
pub(crate) const PUT_EVIDENCE: ApiCall = ApiCall::new(
    Service::S3,
    "PutObject",
    Access::Write,
    Resource::EvidenceObject,
);
pub(crate) const GET_EVIDENCE: ApiCall = ApiCall::new(
    Service::S3,
    "GetObject",
    Access::Read,
    Resource::EvidenceObject,
);

/// What S3 does with an SSE-KMS bucket's key on the caller's behalf when the presigned
/// `PUT` stores the evidence and when it is read back (not calls breakglass makes; declared
/// so the policy grants them).
pub(crate) const ENCRYPT_EVIDENCE: ApiCall = ApiCall::new(
    Service::Kms,
    "GenerateDataKey",
    Access::Write,
    Resource::EvidenceKey,
);
pub(crate) const DECRYPT_EVIDENCE: ApiCall = ApiCall::new(
    Service::Kms,
    "Decrypt",
    Access::Write,
    Resource::EvidenceKey,
);

/// The line the scripts print when the upload is done.
pub const REPORT_PREFIX: &str = "breakglass-evidence";

/// Longest pause between reads of a running command (the first come sooner).
const POLL: Duration = Duration::from_secs(5);

/// Fails unless the instance's SSM agent is online and the host is Linux.
pub async fn agent_ready(ctx: &StepCtx<'_>) -> Result<(), StepError> {
    let id = ctx.instance_id();
    let agent = ctx
        .read(
            &DESCRIBE_INSTANCE_INFORMATION,
            json!({ "filters": { "InstanceIds": [id] } }),
            ctx.ssm().describe_agent(id),
        )
        .await?;
    let Some(agent) = agent else {
        return Err(StepError::Failed(format!(
            "{id} is not managed by SSM: no agent registered, so nothing can run on it"
        )));
    };
    if agent.ping_status != "Online" {
        return Err(StepError::Failed(format!(
            "the SSM agent of {id} is {} — not online: the command could not run",
            agent.ping_status
        )));
    }
    if agent.platform_type.as_deref() != Some("Linux") {
        return Err(StepError::Failed(format!(
            "{id} runs {}: only Linux hosts are supported",
            agent
                .platform_type
                .as_deref()
                .unwrap_or("an unknown platform")
        )));
    }
    Ok(())
}

/// The object key of one piece of evidence.
pub fn evidence_key(prefix: &str, ctx: &StepCtx<'_>, name: &str) -> String {
    format!(
        "{prefix}{}/{}/{}/{name}",
        ctx.incident().unwrap_or("dry-run"),
        ctx.instance_id(),
        ctx.run_id()
    )
}

/// Single-quotes `text` for `sh` (a `'` becomes `'\''`).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A presigned URL without its query (signature, credential, token): what the audit keeps.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<presigned: redacted>"),
        None => url.to_owned(),
    }
}

/// The script as recorded: every presigned URL in it redacted.
pub fn redact_script(script: &str, urls: &[&str]) -> String {
    urls.iter()
        .fold(script.to_owned(), |s, url| s.replace(url, &redact_url(url)))
}

/// The path the host kept an image at instead of uploading it (too large for one upload).
pub fn kept_path(stdout: &str) -> Option<String> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(REPORT_PREFIX))?;
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("kept="))
        .map(str::to_owned)
}

/// The start of every host script: strict mode, `fail CODE MESSAGE`, `presigned URL
/// CURL-ARGS…` (curl reads the URL from stdin: a presigned URL carries the caller's session
/// token, and a command line is visible to every user of the host), the tools it needs, and
/// a private work directory under `work_dir` removed on exit.
pub fn script_start(work_dir: &str, needs: &str) -> String {
    format!(
        r##"set -uo pipefail
umask 077
fail() {{ echo "breakglass: $2" >&2; exit "$1"; }}
presigned() {{ printf 'url = "%s"\n' "$1" | curl -gfsS --retry 3 -K - "${{@:2}}"; }}
for c in curl sha256sum stat mktemp {needs}; do command -v "$c" >/dev/null || fail 3 "$c is missing on the host"; done
work=$(mktemp -d {work_dir}/breakglass.XXXXXX) || fail 3 "cannot create a work directory"
trap 'rm -rf "$work"' EXIT
"##,
        work_dir = shell_quote(work_dir),
    )
}

/// The end of every host script: hash and measure `file` (a path in `$work`), upload it by
/// the presigned `put_url` (with `Content-MD5` when openssl is there, which S3 requires for
/// buckets with default Object Lock retention), and print the report line. `sha256sum`
/// reads stdin (given a name it escapes odd ones in its output); `presigned` (from
/// [`script_start`]) hands the URL to curl on stdin, so no process list on the host shows
/// it, and `curl -g` takes braces and brackets in it as data, not as its globbing.
pub fn script_upload(file: &str, put_url: &str) -> String {
    format!(
        r##"size=$(stat -c %s "$work/{file}")
sum=$(sha256sum < "$work/{file}" | cut -d' ' -f1)
md5=()
if command -v openssl >/dev/null; then md5=(-H "Content-MD5: $(openssl dgst -md5 -binary "$work/{file}" | base64)"); fi
presigned {put_url} -X PUT -H 'Content-Type: application/octet-stream' "${{md5[@]}}" --upload-file "$work/{file}" || fail 8 "the upload failed"
echo "{REPORT_PREFIX} sha256=$sum size=$size"
"##,
        put_url = shell_quote(put_url),
    )
}

/// `(sha256, size)` from the script's report line.
pub fn parse_report(stdout: &str) -> Option<(String, u64)> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(REPORT_PREFIX))?;
    let mut sha = None;
    let mut size = None;
    for field in line.split_whitespace().skip(1) {
        match field.split_once('=') {
            Some(("sha256", v)) if v.len() == 64 => sha = Some(v.to_owned()),
            Some(("size", v)) => size = v.parse().ok(),
            _ => {}
        }
    }
    Some((sha?, size?))
}

/// Sends the script and follows it to the end, with progress; fails on anything but
/// `Success`, with the status, exit code and the end of stderr.
pub async fn run_script(
    ctx: &StepCtx<'_>,
    script: &str,
    recorded: &str,
    timeout: Duration,
    what: &str,
) -> Result<Invocation, StepError> {
    let ssm = ctx.ssm();
    let id = ctx.instance_id();
    let comment = format!("breakglass {what} {}", ctx.run_id());
    let params = json!({
        "document_name": "AWS-RunShellScript",
        "instance_ids": [id],
        "commands": [recorded],
        "execution_timeout": timeout.as_secs(),
    });
    // A run stopped (killed, interrupted) after sending its command is resumed by following
    // that command, unless it failed: the host is not made to acquire twice.
    let earlier = ctx
        .read(
            &LIST_COMMANDS,
            json!({ "instance_id": id, "comment": comment }),
            ssm.find_command(id, &comment),
        )
        .await?
        .filter(|(_, status)| !matches!(status.as_str(), "Failed" | "Cancelled" | "TimedOut"));
    let command = match earlier {
        Some((command, status)) => {
            ctx.progress(format!(
                "{what}: following command {command} ({status}), sent before this run stopped"
            ));
            command
        }
        None => ctx
            .mutate(
                &SEND_COMMAND,
                params,
                ssm.send_shell_script(id, script, timeout, &comment),
            )
            .await?
            .id
            .ok_or_else(|| StepError::Failed("SendCommand returned no command id".into()))?,
    };
    let deadline = tokio::time::Instant::now() + timeout + Duration::from_secs(120);
    let mut pause = Duration::from_millis(500);
    loop {
        let invocation = ctx
            .read(
                &GET_COMMAND_INVOCATION,
                json!({ "command_id": command, "instance_id": id }),
                ssm.get_invocation(&command, id),
            )
            .await?;
        if let Some(invocation) = invocation.filter(Invocation::is_finished) {
            if invocation.status == "Success" {
                return Ok(invocation);
            }
            let tail: String = invocation
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("no error output")
                .to_owned();
            return Err(StepError::Failed(format!(
                "{what} command {command} ended {}{}: {tail}",
                invocation.status,
                invocation
                    .exit_code
                    .map(|c| format!(" (exit {c})"))
                    .unwrap_or_default()
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StepError::Failed(format!(
                "{what} command {command} did not finish within {} s; it may still run on \
                 the instance (see `aws ssm list-command-invocations --command-id {command}`)",
                timeout.as_secs()
            )));
        }
        if ctx.is_cancelled() {
            return Err(StepError::Interrupted);
        }
        ctx.progress(format!("{what}: command {command} running"));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL);
    }
}

/// Reads the object back and checks size and SHA-256 against what the host reported.
pub async fn verify_upload(
    ctx: &StepCtx<'_>,
    bucket: &str,
    key: &str,
    host: &(String, u64),
) -> Result<StoredObject, StepError> {
    let s3 = ctx.aws_s3();
    let stored = ctx
        .read(
            &GET_EVIDENCE,
            json!({ "bucket": bucket, "key": key, "purpose": "hash what arrived" }),
            s3.read_back(bucket, key),
        )
        .await?
        .ok_or_else(|| {
            StepError::Failed(format!(
                "s3://{bucket}/{key} is missing although the host reported an upload"
            ))
        })?;
    if stored.size != host.1 {
        return Err(StepError::Failed(format!(
            "short read: the host sent {} bytes, s3://{bucket}/{key} has {}",
            host.1, stored.size
        )));
    }
    if stored.sha256 != host.0 {
        return Err(StepError::Failed(format!(
            "hash mismatch: the host computed {}, S3 holds {}",
            host.0, stored.sha256
        )));
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_and_urls_are_redacted() {
        let sha = "a".repeat(64);
        let out = format!("noise\n{REPORT_PREFIX} sha256={sha} size=42\n");
        assert_eq!(parse_report(&out), Some((sha.clone(), 42)));
        assert_eq!(kept_path(&out), None);
        let kept = format!("{REPORT_PREFIX} sha256={sha} size=9 kept=/mnt/evidence/m.lime");
        assert_eq!(kept_path(&kept).as_deref(), Some("/mnt/evidence/m.lime"));
        assert_eq!(parse_report(&kept), Some((sha.clone(), 9)));
        assert_eq!(parse_report("nothing"), None);
        assert_eq!(
            parse_report(&format!("{REPORT_PREFIX} sha256=short size=1")),
            None
        );
        let url = "http://s3/b/k?X-Amz-Credential=AKIA&X-Amz-Signature=abc&X-Amz-Security-Token=t";
        let script = format!("curl {}", shell_quote(url));
        let recorded = redact_script(&script, &[url]);
        assert!(
            !recorded.contains("Signature") && !recorded.contains("AKIA"),
            "{recorded}"
        );
        assert!(recorded.contains("http://s3/b/k?<presigned: redacted>"));
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
