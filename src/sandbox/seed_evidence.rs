//! Seeding the sandbox's forensic side: an evidence bucket under Object Lock, a staged
//! (fake, harmless) memory acquisition tool with its SHA-256, and the breakglass config
//! that points at them — so `capture-memory` and `contain` work in the sandbox as they
//! would in an account set up per docs/evidence.md.

use sha2::{Digest, Sha256};

use crate::aws::{AwsContext, AwsError};

/// The sandbox's evidence bucket.
pub const EVIDENCE_BUCKET: &str = "breakglass-evidence-sandbox";
/// The sandbox's bucket of staged tools.
pub const TOOLS_BUCKET: &str = "breakglass-tools-sandbox";

/// Stands in for AVML in the sandbox: writes 1 MiB of labelled pseudo-random "memory".
const FAKE_TOOL: &str = "#!/bin/sh\n# GAME DAY / SANDBOX stand-in for a memory acquisition tool.\n\
                         { echo 'SANDBOX MEMORY IMAGE'; head -c 1048576 /dev/urandom; } > \"$1\"\n";

/// Creates the buckets, stages the tool, and returns the breakglass config (TOML) that
/// points at them.
pub async fn seed_evidence(ctx: &AwsContext, region: &str) -> Result<String, AwsError> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(ctx.sdk_config())
            .region(aws_types::region::Region::new(region.to_owned()))
            .build(),
    );
    let location = aws_sdk_s3::types::BucketLocationConstraint::from(region);
    for (bucket, lock) in [(EVIDENCE_BUCKET, true), (TOOLS_BUCKET, false)] {
        s3.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(location.clone())
                    .build(),
            )
            .object_lock_enabled_for_bucket(lock)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3", "CreateBucket", region, &e))?;
    }
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
        ObjectLockRule,
    };
    s3.put_object_lock_configuration()
        .bucket(EVIDENCE_BUCKET)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(1)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3", "PutObjectLockConfiguration", region, &e))?;
    s3.put_object()
        .bucket(TOOLS_BUCKET)
        .key("avml/avml")
        .body(FAKE_TOOL.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3", "PutObject", region, &e))?;
    let sha = hex::encode(Sha256::digest(FAKE_TOOL.as_bytes()));
    Ok(format!(
        "# The game-day sandbox's breakglass config (written by `breakglass demo`).\n\
         regions = [\"{region}\"]\n\n[evidence]\nbucket = \"{EVIDENCE_BUCKET}\"\n\n\
         [evidence.memory_tool.x86_64]\ns3 = \"s3://{TOOLS_BUCKET}/avml/avml\"\nsha256 = \"{sha}\"\n\n\
         [evidence.memory_tool.arm64]\ns3 = \"s3://{TOOLS_BUCKET}/avml/avml\"\nsha256 = \"{sha}\"\n"
    ))
}

/// The sandbox's instance role and profile of the production Security Servers.
pub const INSTANCE_ROLE: &str = "xroad-security-server";

/// Creates the instance role and profile and associates it with `instances` (so
/// `revoke-sessions` has credentials to revoke and a blast radius to show).
pub async fn seed_instance_role(
    ctx: &AwsContext,
    region: &str,
    instances: &[String],
) -> Result<(), AwsError> {
    let iam = aws_sdk_iam::Client::new(ctx.sdk_config());
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name(INSTANCE_ROLE)
        .assume_role_policy_document(trust)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam", "CreateRole", region, &e))?;
    iam.create_instance_profile()
        .instance_profile_name(INSTANCE_ROLE)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam", "CreateInstanceProfile", region, &e))?;
    iam.add_role_to_instance_profile()
        .instance_profile_name(INSTANCE_ROLE)
        .role_name(INSTANCE_ROLE)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam", "AddRoleToInstanceProfile", region, &e))?;
    let ec2 = ctx.ec2(region);
    for instance in instances {
        ec2.client()
            .associate_iam_instance_profile()
            .instance_id(instance)
            .iam_instance_profile(
                aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                    .name(INSTANCE_ROLE)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "AssociateIamInstanceProfile", region, &e))?;
    }
    Ok(())
}
