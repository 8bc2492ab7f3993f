//! The one place that decides, for each kind of resource a call declares, which ARNs an IAM
//! statement grants it on and which condition narrows it, from the config's scope. Adding a
//! `Resource` variant means adding its arm here; nothing else in the generator changes.

use serde_json::{Map, Value, json};

use super::scope::{PolicyError, PolicyScope};
use crate::playbook::actions::Resource;

const INSTANCE: &str = "arn:aws:ec2:*:*:instance/*";
const SG: &str = "arn:aws:ec2:*:*:security-group/*";
const SNAPSHOT: &str = "arn:aws:ec2:*::snapshot/*";
const INTERFACE: &str = "arn:aws:ec2:*:*:network-interface/*";

/// One statement's worth of permission, without its actions.
#[derive(Debug, PartialEq)]
pub(super) struct Grant {
    /// The statement id after `Breakglass`.
    pub sid: &'static str,
    pub resources: Vec<String>,
    pub condition: Option<Value>,
}

impl Grant {
    fn on(sid: &'static str, resources: &[&str]) -> Grant {
        Grant {
            sid,
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            condition: None,
        }
    }

    fn when(mut self, condition: Option<Value>) -> Grant {
        self.condition = condition;
        self
    }

    /// The statement granting `actions` (sorted) on this grant's resources.
    pub fn statement(&self, actions: &[String]) -> Value {
        let resource = match &self.resources[..] {
            [one] => json!(one),
            many => json!(many),
        };
        let mut statement = json!({
            "Sid": format!("Breakglass{}", self.sid),
            "Effect": "Allow",
            "Action": actions,
            "Resource": resource,
        });
        if let Some(condition) = &self.condition {
            statement["Condition"] = condition.clone();
        }
        statement
    }
}

/// The grants for the calls declared on `resource`; none when the config says the calls
/// need no permission (an evidence bucket without a KMS key, no acquisition tool staged).
pub(super) fn grants(resource: Resource, scope: &PolicyScope) -> Result<Vec<Grant>, PolicyError> {
    let on = Grant::on;
    let tags = |key: &str| tag_condition(key, scope);
    let evidence = &scope.evidence;
    Ok(match resource {
        Resource::Any => vec![on("Read", &["*"])],
        Resource::Instance => {
            vec![on("ChangeInstances", &[INSTANCE]).when(tags("aws:ResourceTag"))]
        }
        Resource::SecurityGroup => vec![on("ChangeSecurityGroups", &[SG])],
        Resource::VpcAndSecurityGroup => {
            vec![on("CreateSecurityGroups", &["arn:aws:ec2:*:*:vpc/*", SG])]
        }
        Resource::NewSecurityGroup => vec![on("TagNewSecurityGroups", &[SG]).when(Some(json!({
            "StringEquals": { "ec2:CreateAction": "CreateSecurityGroup" }
        })))],
        Resource::NetworkInterfaceAndSecurityGroup => {
            vec![on("ChangeNetworkInterfaces", &[INTERFACE, SG])]
        }
        Resource::AutoScalingGroup => vec![on(
            "ChangeAutoScalingGroups",
            &["arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"],
        )],
        Resource::TargetGroup => vec![on(
            "ChangeTargetGroups",
            &["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"],
        )],
        Resource::ClassicLoadBalancer => vec![on(
            "ChangeClassicLoadBalancers",
            &["arn:aws:elasticloadbalancing:*:*:loadbalancer/*"],
        )],
        Resource::NetworkAcl => vec![on(
            "SubnetDeny",
            &[
                "arn:aws:ec2:*:*:network-acl/*",
                "arn:aws:ec2:*:*:vpc/*",
                "arn:aws:ec2:*:*:subnet/*",
            ],
        )],
        Resource::IsolationParameter => vec![on(
            "IsolationRecords",
            &["arn:aws:ssm:*:*:parameter/breakglass/isolation/*"],
        )],
        Resource::ElasticIp => vec![on(
            "DisassociateAddresses",
            &["arn:aws:ec2:*:*:elastic-ip/*", INSTANCE, INTERFACE],
        )],
        Resource::SnapshotSource => vec![on(
            "CreateSnapshots",
            &[INSTANCE, "arn:aws:ec2:*:*:volume/*", SNAPSHOT],
        )],
        Resource::Snapshot => vec![on("ChangeSnapshots", &[SNAPSHOT])],
        Resource::Role => vec![role_grant(scope)?],
        Resource::InstanceProfile => {
            vec![on(
                "InstanceProfiles",
                &["arn:aws:iam::*:instance-profile/*"],
            )]
        }
        Resource::Session => vec![on("TerminateSessions", &["arn:aws:ssm:*:*:session/*"])],
        // The forensic key is a playbook argument, so any key — but only as EBS uses it.
        Resource::KmsKey => vec![on("ForensicKeys", &["arn:aws:kms:*:*:key/*"]).when(Some(
            json!({ "StringLike": { "kms:ViaService": "ec2.*.amazonaws.com" } }),
        ))],
        // SSM authorizes SendCommand on the document and on each instance, each against its
        // own tags: a tag condition on the document's statement would never match.
        Resource::RunShellScript => vec![
            on(
                "RunCommandDocument",
                &["arn:aws:ssm:*::document/AWS-RunShellScript"],
            ),
            on("RunCommand", &[INSTANCE]).when(tags("ssm:resourceTag")),
        ],
        Resource::EvidenceObject => vec![Grant {
            sid: "EvidenceObjects",
            resources: vec![format!(
                "arn:aws:s3:::{}/{}*",
                evidence.bucket.as_deref().unwrap_or("*"),
                evidence.prefix
            )],
            condition: None,
        }],
        Resource::EvidenceKey => evidence_key_grant(scope)?.into_iter().collect(),
        Resource::ToolObject => {
            // One object may serve several architectures: each ARN once.
            let objects: std::collections::BTreeSet<String> = evidence
                .memory_tool
                .values()
                .filter_map(|tool| tool.bucket_key())
                .map(|(bucket, key)| format!("arn:aws:s3:::{bucket}/{key}"))
                .collect();
            if objects.is_empty() {
                Vec::new()
            } else {
                vec![Grant {
                    sid: "AcquisitionTools",
                    resources: objects.into_iter().collect(),
                    condition: None,
                }]
            }
        }
    })
}

/// `StringEquals` on `<key>/<tag>` for every discovery tag (ANDed, each tag's values ORed);
/// `None` when discovery takes every instance.
fn tag_condition(key: &str, scope: &PolicyScope) -> Option<Value> {
    if scope.tags.is_empty() {
        return None;
    }
    let tags: Map<String, Value> = scope
        .tags
        .iter()
        .map(|f| (format!("{key}/{}", f.key), json!(f.values)))
        .collect();
    Some(json!({ "StringEquals": tags }))
}

/// The roles `revoke-sessions` may write its deny policy onto: those under the configured
/// path, else those carrying the discovery tags; never every role.
fn role_grant(scope: &PolicyScope) -> Result<Grant, PolicyError> {
    if let Some(path) = &scope.role_path {
        return Ok(Grant {
            sid: "InstanceRoles",
            resources: vec![format!("arn:aws:iam::*:role{path}*")],
            condition: None,
        });
    }
    match tag_condition("aws:ResourceTag", scope) {
        Some(condition) => {
            Ok(Grant::on("InstanceRoles", &["arn:aws:iam::*:role/*"]).when(Some(condition)))
        }
        None => Err(PolicyError::UnscopedRoles),
    }
}

/// The evidence bucket's key, for S3 to use on the caller's behalf in the key's region.
fn evidence_key_grant(scope: &PolicyScope) -> Result<Option<Grant>, PolicyError> {
    let Some(arn) = &scope.evidence.kms_key_arn else {
        return Ok(None);
    };
    let region = crate::ids::kms_key_region(arn)
        .map_err(|reason| PolicyError::KmsKeyArn(format!("`{arn}` {reason}")))?;
    Ok(Some(Grant {
        sid: "EvidenceKey",
        resources: vec![arn.clone()],
        condition: Some(json!({
            "StringEquals": { "kms:ViaService": format!("s3.{region}.amazonaws.com") }
        })),
    }))
}
