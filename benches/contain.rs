//! Time to contain: `breakglass --playbook isolate` for 1 and 20 instances (100 with
//! `BENCH_CONTAIN_100=1`) against the baseline a careful responder would otherwise run — a
//! shell runbook of AWS CLI calls (`benches/contain/runbook.sh`, awscli pinned in a venv) —
//! and against the lower bound: the larger of the emulator's CPU time for the calls and one
//! instance's sequential chain of calls times the emulator's round trip (persistent client).
//! All against one local emulator (moto, behind the game-day simulator, which counts the
//! calls). `cargo bench --bench contain`; the first run installs awscli (~1 minute).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use breakglass::aws::{AwsContext, AwsSettings, Ec2Api, Ec2Filter, SandboxEndpoint};
use breakglass::sandbox::{InstanceSpec, MotoServer, Network, Seeder, Simulator};

const REGION: &str = "eu-west-1";
const AWSCLI: &str = "1.46.3";

/// The AWS CLI in a venv of its own (created on first use).
fn awscli() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap()
        .join(format!("breakglass/awscli-{AWSCLI}"));
    let aws = base.join("bin/aws");
    if !aws.exists() {
        eprintln!("installing awscli {AWSCLI} into {} (once)…", base.display());
        assert!(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(&base)
                .status()
                .unwrap()
                .success()
        );
        assert!(
            Command::new(base.join("bin/pip"))
                .args(["install", "-q", &format!("awscli=={AWSCLI}")])
                .status()
                .unwrap()
                .success()
        );
    }
    base.join("bin")
}

struct Bench {
    sim: Simulator,
    moto_pid: u32,
    seeder: Seeder,
    network: Network,
    ctx: AwsContext,
    home: tempfile::TempDir,
    trial: usize,
}

impl Bench {
    /// `n` fresh Security Servers in an Auto Scaling group behind a target group. Trials
    /// share one VPC: each adds a target group that both sides then scan (a VPC per trial
    /// made the emulator's Auto Scaling terminate instances mid-run; see performance.md).
    async fn servers(&mut self, n: usize) -> Vec<String> {
        self.trial += 1;
        let mut ids = Vec::new();
        for i in 0..n {
            let name = format!("ss-bench-{}-{i}", self.trial);
            let id = self
                .seeder
                .launch(&InstanceSpec {
                    name: &name,
                    subnet_id: &self.network.subnets[i % 2].1,
                    security_group_id: &self.network.security_group_id,
                    tags: &[("Role", "xroad-security-server")],
                    interfaces: 1,
                })
                .await
                .unwrap();
            ids.push(id);
        }
        let subnets: Vec<String> = self
            .network
            .subnets
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        self.seeder
            .auto_scaling_group(&format!("bench-asg-{}", self.trial), &subnets, &ids)
            .await
            .unwrap();
        self.seeder
            .target_group(
                &format!("bench-tg-{}", self.trial),
                &self.network.vpc_id,
                5500,
                &ids,
            )
            .await
            .unwrap();
        ids
    }

    fn calls(&self) -> u64 {
        self.sim
            .counts()
            .iter()
            .filter(|(k, _)| !k.starts_with("ssmmessages"))
            .map(|(_, v)| v)
            .sum()
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", self.sim.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env_remove("AWS_PROFILE");
    }

    /// breakglass isolating `ids`: wall time, calls made, emulator CPU seconds, and the
    /// process's peak resident memory in MiB (sampled from /proc while it runs).
    fn breakglass(&self, ids: &[String]) -> (Duration, u64, f64, f64) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
        self.env(&mut cmd);
        cmd.args([
            "--playbook",
            "isolate",
            "--incident",
            "BENCH-1",
            "--yes",
            "--output",
            "json",
        ]);
        for id in ids {
            cmd.args(["--target", id]);
        }
        let (calls, cpu) = (self.calls(), support::cpu_seconds(self.moto_pid));
        let start = Instant::now();
        // Output to files: the progress of many targets would fill a pipe nobody reads while
        // this polls.
        let stdout = tempfile::tempfile().unwrap();
        let mut stderr = tempfile::tempfile().unwrap();
        let mut child = cmd
            .stdout(stdout)
            .stderr(stderr.try_clone().unwrap())
            .spawn()
            .unwrap();
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0.0f64;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            let kib = std::fs::read_to_string(&status_file).ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            });
            peak_kib = peak_kib.max(kib.unwrap_or(0.0));
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = start.elapsed();
        if !status.success() {
            use std::io::{Read, Seek};
            let mut text = String::new();
            stderr.rewind().unwrap();
            stderr.read_to_string(&mut text).unwrap();
            panic!("breakglass failed: {text}");
        }
        (
            took,
            self.calls() - calls,
            support::cpu_seconds(self.moto_pid) - cpu,
            peak_kib / 1024.0,
        )
    }

    /// The AWS CLI runbook isolating `ids`: wall time and calls made.
    fn runbook(&self, aws: &Path, ids: &[String]) -> (Duration, u64) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/contain/runbook.sh");
        let mut cmd = Command::new("bash");
        self.env(&mut cmd);
        cmd.env(
            "PATH",
            format!(
                "{}:{}",
                aws.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .arg(script)
        .arg("BENCH-1")
        .args(ids);
        let calls = self.calls();
        let start = Instant::now();
        let out = cmd.output().unwrap();
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (took, self.calls() - calls)
    }
}

#[tokio::main]
async fn main() {
    let aws = awscli();
    let moto = MotoServer::start(&|m| eprintln!("{m}")).unwrap();
    let sim = Simulator::start(&moto.endpoint()).await.unwrap();
    let ctx = AwsContext::load(&AwsSettings {
        profile: None,
        client: Default::default(),
        sandbox: Some(SandboxEndpoint {
            endpoint_url: sim.endpoint(),
            region: REGION.into(),
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        }),
    })
    .await;
    let seeder = Seeder::new(&ctx, REGION);
    let network = seeder.network("10.30.0.0/16", &["a", "b"]).await.unwrap();
    let mut bench = Bench {
        moto_pid: moto.pid(),
        sim,
        seeder,
        network,
        ctx,
        home: tempfile::tempdir().unwrap(),
        trial: 0,
    };

    // The emulator's round trip with a persistent client.
    let probe = bench.servers(1).await;
    let ec2 = bench.ctx.ec2(REGION);
    let filter = [Ec2Filter {
        name: "instance-id".into(),
        values: probe.clone(),
    }];
    let mut rtts = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        ec2.describe_instances(&filter).await.unwrap();
        rtts.push(start.elapsed());
    }
    rtts.sort();
    let rtt = rtts[rtts.len() / 2];
    println!(
        "emulator round trip (persistent client): {}",
        support::show(rtt)
    );

    let mut sizes = vec![1, 20];
    if std::env::var_os("BENCH_CONTAIN_100").is_some() {
        sizes.push(100);
    }
    let runs = 3;
    let mut chain = 0;
    for n in sizes {
        let mut ours = Vec::new();
        let (mut our_calls, mut cpu, mut rss) = (0, 0.0, 0.0f64);
        for _ in 0..runs {
            let ids = bench.servers(n).await;
            let (took, calls, used, peak) = bench.breakglass(&ids);
            ours.push(took);
            our_calls = calls;
            cpu = used;
            rss = rss.max(peak);
        }
        ours.sort();
        let ours = ours[ours.len() / 2];
        let per_instance = our_calls / n as u64;
        if n == 1 {
            chain = our_calls;
        }
        // One instance's calls run one after another; instances run side by side.
        let lower = Duration::from_secs_f64((rtt.as_secs_f64() * chain as f64).max(cpu));
        // The runbook is slow (a process per call): one run beyond a single instance.
        // None for 100 (about 17 minutes; the targets compare 1 and 20).
        let runbook_runs = match n {
            1 => runs,
            20 => 1,
            _ => 0,
        };
        let mut theirs = Vec::new();
        let mut their_calls = 0;
        for _ in 0..runbook_runs {
            let ids = bench.servers(n).await;
            let (took, calls) = bench.runbook(&aws, &ids);
            theirs.push(took);
            their_calls = calls;
        }
        theirs.sort();
        println!("-- isolate {n} instance(s)");
        support::report("breakglass vs lower bound", ours, lower);
        if let Some(theirs) = theirs.get(theirs.len() / 2) {
            support::report("runbook vs breakglass", *theirs, ours);
        }
        println!(
            "calls per instance: breakglass {per_instance}, runbook {}; emulator CPU {:.2} s; \
             breakglass peak RSS {rss:.1} MiB",
            their_calls / n as u64,
            cpu
        );
    }
}
