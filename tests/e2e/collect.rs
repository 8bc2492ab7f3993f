//! End to end: `capture-memory` and `collect-volatile` with the real S3 of moto (presigned
//! URLs, objects read back) and the game-day simulator's Run Command, which runs the
//! scripts with bash on this machine (moto's never runs anything): success with all three
//! hashes recorded, and the failures that must never look like success — a tool hash
//! mismatch, a host that lies about its upload, a timeout, an offline agent, a Windows host.

use crate::support::lab::evidence_config;
use crate::support::{Account, REGION};
use breakglass::aws::AwsContext;
use breakglass::sandbox::{
    EVIDENCE_BUCKET, InstanceSpec, Lie, ManagedInstance, Seeder, Simulator, TOOLS_BUCKET,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A fake acquisition tool: writes 256 KiB of pseudo-random "memory" to its argument.
const FAKE_AVML: &str = "#!/bin/sh\nhead -c 262144 /dev/urandom > \"$1\"\n";

struct Lab {
    account: Account,
    sim: Simulator,
    ctx: AwsContext,
    instance: String,
    work: tempfile::TempDir,
}

/// One Security Server managed by the simulator's SSM, the sandbox's evidence bucket (under
/// Object Lock, as docs/evidence.md recommends), `tool` staged for this account with the
/// config pinning `tool_sha256` (its true hash when `None`).
async fn lab(cidr: &str, tool: &str, tool_sha256: Option<&str>) -> Lab {
    let account = Account::new().await;
    let sim = Simulator::start(&crate::support::moto().endpoint())
        .await
        .unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network(cidr, &["a"]).await.unwrap();
    let instance = seeder
        .launch(&InstanceSpec {
            name: "ss-forensics",
            subnet_id: &net.subnets[0].1,
            security_group_id: &net.security_group_id,
            tags: &[("Role", "xroad-security-server")],
            interfaces: 1,
        })
        .await
        .unwrap();
    sim.manage([ManagedInstance::new(instance.clone())]);
    // The buckets exist once per emulator; the tool is this account's own.
    evidence_config().await;
    let key = format!("{}/avml", account.id);
    aws_sdk_s3::Client::new(ctx.sdk_config())
        .put_object()
        .bucket(TOOLS_BUCKET)
        .key(&key)
        .body(tool.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    let sha = tool_sha256
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(Sha256::digest(tool.as_bytes())));
    account.write_config(&format!(
        "[aws]\nmax_attempts = 1\n[evidence]\nbucket = \"{EVIDENCE_BUCKET}\"\n\
         [evidence.memory_tool.x86_64]\ns3 = \"s3://{TOOLS_BUCKET}/{key}\"\nsha256 = \"{sha}\"\n"
    ));
    Lab {
        account,
        sim,
        ctx,
        instance,
        work: tempfile::tempdir().unwrap(),
    }
}

impl Lab {
    fn run(&self, playbook: &str) -> (i32, Value, String) {
        self.run_with(playbook, &["-p", "timeout_minutes=2"])
    }

    fn run_with(&self, playbook: &str, extra: &[&str]) -> (i32, Value, String) {
        let run = self
            .account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
            .args([
                "run",
                playbook,
                "-t",
                "ss-forensics",
                "--incident",
                "IR-51",
                "--yes",
            ])
            .args(if extra.iter().any(|a| a.starts_with("work_dir=")) {
                Vec::new()
            } else {
                vec![
                    "-p".to_owned(),
                    format!("work_dir={}", self.work.path().display()),
                ]
            })
            .args(extra)
            .args(["--output", "json"])
            .run();
        let doc = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
        (run.code, doc, run.stderr)
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(
            self.account
                .home()
                .join(".local/state/breakglass/audit.jsonl"),
        )
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
    }

    async fn object(&self, name: &str, run_id: &str) -> Option<Vec<u8>> {
        let s3 = aws_sdk_s3::Client::new(self.ctx.sdk_config());
        let key = format!("breakglass/IR-51/{}/{run_id}/{name}", self.instance);
        let out = s3
            .get_object()
            .bucket(EVIDENCE_BUCKET)
            .key(key)
            .send()
            .await
            .ok()?;
        Some(out.body.collect().await.unwrap().into_bytes().to_vec())
    }

    /// The scripts the host received, oldest first, as SSM lists the commands sent to it.
    async fn scripts(&self) -> Vec<String> {
        let listed = aws_sdk_ssm::Client::new(self.ctx.sdk_config())
            .list_commands()
            .instance_id(&self.instance)
            .send()
            .await
            .unwrap();
        listed
            .commands()
            .iter()
            .filter_map(|c| c.parameters()?.get("commands")?.first().cloned())
            .collect()
    }

    /// The host's agent is `ping`, on `platform`, and `lies` in its reports.
    fn host(&self, ping: &str, platform: &str, lies: Option<Lie>) {
        self.sim.manage([ManagedInstance {
            ping_status: ping.into(),
            platform_type: platform.into(),
            lies,
            ..ManagedInstance::new(self.instance.clone())
        }]);
    }
}

fn step(doc: &Value) -> &Value {
    &doc["targets"][0]["steps"][0]
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_is_captured_uploaded_and_verified_with_all_three_hashes() {
    let lab = lab("10.90.0.0/16", FAKE_AVML, None).await;
    let (code, doc, stderr) = lab.run("capture-memory");
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(step(&doc)["status"], "succeeded", "{doc:#}");
    let run_id = doc["run_id"].as_str().unwrap();
    let image = lab
        .object("memory.lime", run_id)
        .await
        .expect("the image is in S3");
    assert_eq!(image.len(), 262_144);
    let sha = hex::encode(Sha256::digest(&image));
    let audit = lab.audit();
    let note = audit
        .iter()
        .find(|r| {
            r["kind"] == "note"
                && r["body"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("memory image")
        })
        .expect("the hashes are recorded");
    let message = note["body"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("host {sha} = S3 {sha}")),
        "{message}"
    );
    assert!(
        message.contains(&hex::encode(Sha256::digest(FAKE_AVML.as_bytes()))),
        "tool hash"
    );
    // The script went to the host with presigned URLs; the audit keeps none of them.
    let sent = audit
        .iter()
        .find(|r| r["kind"] == "intent" && r["body"]["operation"] == "SendCommand")
        .unwrap();
    let recorded = sent["body"]["params"]["commands"][0].as_str().unwrap();
    assert!(recorded.contains("<presigned: redacted>"), "{recorded}");
    let whole = serde_json::to_string(&audit).unwrap();
    for secret in [
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
    ] {
        assert!(!whole.contains(secret), "{secret} in the audit log");
    }
    let scripts = lab.scripts().await;
    let script = &scripts[0];
    assert!(
        script.contains("X-Amz-Signature"),
        "the host did get a presigned URL"
    );
    assert!(
        !script.contains(&lab.account.secret_access_key),
        "never the secret key"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_failures_never_a_silent_success() {
    // A tool whose hash is not the pinned one: refused on the host, nothing uploaded.
    let lab_tool = lab("10.91.0.0/16", FAKE_AVML, Some(&"0".repeat(64))).await;
    let (code, doc, _) = lab_tool.run("capture-memory");
    assert_eq!(code, 1);
    let detail = step(&doc)["detail"].as_str().unwrap();
    assert!(
        detail.contains("acquisition tool hash mismatch"),
        "{detail}"
    );
    assert!(
        lab_tool
            .object("memory.lime", doc["run_id"].as_str().unwrap())
            .await
            .is_none()
    );

    // A host that reports more than it uploaded: caught when S3 is read back.
    let lab = lab("10.92.0.0/16", FAKE_AVML, None).await;
    lab.host("Online", "Linux", Some(Lie::Size));
    let (code, doc, _) = lab.run("capture-memory");
    assert_eq!(code, 1);
    assert!(
        step(&doc)["detail"]
            .as_str()
            .unwrap()
            .contains("short read"),
        "{doc:#}"
    );

    // A host that reports another hash than what arrived.
    lab.host("Online", "Linux", Some(Lie::Hash));
    let (code, doc, _) = lab.run("collect-volatile");
    assert_eq!(code, 1);
    assert!(
        step(&doc)["detail"]
            .as_str()
            .unwrap()
            .contains("hash mismatch"),
        "{doc:#}"
    );

    // An agent that is not online, and a Windows host: refused before any command.
    let sent_before = lab.scripts().await.len();
    for (ping, platform, expected) in [
        ("ConnectionLost", "Linux", "not online"),
        ("Online", "Windows", "only Linux hosts"),
    ] {
        lab.host(ping, platform, None);
        let (code, doc, _) = lab.run("capture-memory");
        assert_eq!(code, 1);
        assert!(
            step(&doc)["detail"].as_str().unwrap().contains(expected),
            "{doc:#}"
        );
    }
    assert_eq!(lab.scripts().await.len(), sent_before);
}

/// A tool that never finishes: the host's agent ends the command at its execution timeout
/// (one minute, the shortest a playbook takes) and the step fails with it.
#[tokio::test(flavor = "multi_thread")]
async fn a_command_past_its_timeout_fails_the_step() {
    let lab = lab("10.96.0.0/16", "#!/bin/sh\nexec sleep 90\n", None).await;
    let (code, doc, _) = lab.run_with("capture-memory", &["-p", "timeout_minutes=1"]);
    assert_eq!(code, 1);
    assert!(
        step(&doc)["detail"]
            .as_str()
            .unwrap()
            .contains("ended TimedOut"),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn volatile_data_is_archived_uploaded_and_verified() {
    let lab = lab("10.93.0.0/16", FAKE_AVML, None).await;
    let (code, doc, stderr) = lab.run("collect-volatile");
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let run_id = doc["run_id"].as_str().unwrap();
    let archive = lab
        .object("volatile.tar.gz", run_id)
        .await
        .expect("the archive is in S3");
    let file = lab.work.path().join("volatile.tar.gz");
    std::fs::write(&file, &archive).unwrap();
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&file)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for name in [
        "volatile/processes.txt",
        "volatile/connections.txt",
        "volatile/etc-xroad.txt",
    ] {
        assert!(listing.contains(name), "{name} in\n{listing}");
    }
    // The host's work directory is cleaned up.
    let left: Vec<_> = std::fs::read_dir(lab.work.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("volatile.tar.gz")],
        "only the test's copy"
    );
}

/// Shell syntax in a value that reaches the host script is data: the host really runs the
/// script (bash, through the simulator's Run Command) in a work directory whose name is built to
/// break out of quoting, and nothing in it executes.
#[tokio::test(flavor = "multi_thread")]
async fn shell_syntax_in_parameters_reaches_the_host_as_data() {
    let lab = lab("10.95.0.0/16", FAKE_AVML, None).await;
    let canary = lab.work.path().join("pwned");
    let hostile = lab.work.path().join(format!(
        "w'\"$(touch {c});`touch {c}`;\\' {{{{ incident }}}}",
        c = canary.display()
    ));
    std::fs::create_dir_all(&hostile).unwrap();
    let (code, doc, stderr) = lab.run_with(
        "collect-volatile",
        &[
            "-p",
            "timeout_minutes=2",
            "-p",
            &format!("work_dir={}", hostile.display()),
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert!(!canary.exists(), "nothing in the value was executed");
    let scripts = lab.scripts().await;
    assert!(!scripts.is_empty());
    assert!(
        scripts
            .iter()
            .all(|s| !s.contains(&format!("mktemp -d {}", hostile.display()))),
        "the value is never pasted unquoted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn contain_runs_the_whole_response_in_the_order_that_keeps_the_evidence() {
    let lab = lab("10.94.0.0/16", FAKE_AVML, None).await;
    let (code, doc, stderr) = lab.run_with("contain", &[]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let steps: Vec<(&str, &str)> = doc["targets"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["action"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("capture-memory", "succeeded"),
            ("collect-volatile", "succeeded"),
            ("isolate", "succeeded"),
            ("revoke-sessions", "already_done"),
            ("snapshot", "succeeded"),
        ],
        "{doc:#}"
    );
    let run_id = doc["run_id"].as_str().unwrap();
    assert!(lab.object("memory.lime", run_id).await.is_some());
    assert!(lab.object("volatile.tar.gz", run_id).await.is_some());
    // The audit log shows the memory was taken before the network was cut.
    let audit = lab.audit();
    let position = |operation: &str| {
        audit
            .iter()
            .position(|r| r["kind"] == "intent" && r["body"]["operation"] == operation)
            .unwrap_or_else(|| panic!("no {operation}"))
    };
    assert!(position("SendCommand") < position("ModifyNetworkInterfaceAttribute"));
    assert!(position("ModifyNetworkInterfaceAttribute") < position("CreateSnapshots"));
}
