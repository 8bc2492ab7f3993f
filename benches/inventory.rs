//! Inventory at scale: `breakglass list --all --output json` over 1,000 instances in two
//! regions (a whole process), against the emulator's own CPU time for the describe calls it
//! answered during that run — what any client must wait for. `cargo bench --bench inventory`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use breakglass::aws::{AwsContext, AwsSettings, SandboxEndpoint};
use breakglass::sandbox::{MotoServer, Seeder};

const REGIONS: [&str; 2] = ["eu-west-1", "eu-north-1"];
const PER_REGION: i32 = 500;

#[tokio::main]
async fn main() {
    let moto = MotoServer::start(&|m| eprintln!("{m}")).unwrap();
    for region in REGIONS {
        let ctx = AwsContext::load(&AwsSettings {
            profile: None,
            client: Default::default(),
            sandbox: Some(SandboxEndpoint {
                endpoint_url: moto.endpoint(),
                region: region.into(),
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
            }),
        })
        .await;
        let network = Seeder::new(&ctx, region)
            .network("10.50.0.0/16", &["a", "b"])
            .await
            .unwrap();
        let ec2 = aws_sdk_ec2::Client::new(ctx.sdk_config());
        ec2.run_instances()
            .image_id("ami-12345678")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(PER_REGION)
            .max_count(PER_REGION)
            .subnet_id(&network.subnets[0].1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(
                        Tag::builder()
                            .key("Role")
                            .value("xroad-security-server")
                            .build(),
                    )
                    .tags(Tag::builder().key("Name").value("ss-scale").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let list = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
        cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env_remove("AWS_PROFILE")
            .args(["list", "--all", "--output", "json"]);
        for region in REGIONS {
            cmd.args(["--region", region]);
        }
        cmd
    };
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut count = 0;
    for _ in 0..3 {
        let cpu = support::cpu_seconds(moto.pid());
        let start = Instant::now();
        let out = list().output().unwrap();
        walls.push(start.elapsed());
        cpus.push(support::cpu_seconds(moto.pid()) - cpu);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        count = doc["servers"].as_array().unwrap().len();
    }
    walls.sort();
    cpus.sort_by(f64::total_cmp);
    let emulator = Duration::from_secs_f64(cpus[1]);
    support::report(
        &format!("list of {count} instances in {} regions", REGIONS.len()),
        walls[1],
        emulator,
    );
}
