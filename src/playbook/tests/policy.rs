//! The printed policies' resources and conditions, for every built-in playbook: a snapshot
//! of each, and requests inside and outside the scope judged by `iam_eval` (what moto's
//! enforcement, which checks actions only, cannot judge).

use super::iam_eval::{Request, allows};
use crate::config::{EvidenceConfig, ToolLocation};
use crate::inventory::TagFilter;
use crate::playbook::actions::{ApiCall, Resource};
use crate::playbook::{Catalog, ENGINE_CALLS, PolicyError, PolicyScope, policy};

const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const FORENSIC_KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/forensic";
const BUCKET: &str = "ir-evidence-111122223333";
const INSTANCE: &str = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1";
const SERVER: (&str, &str) = ("aws:ResourceTag/Role", "xroad-security-server");

/// Whether the request must be allowed, the resource's ARN, and its context keys.
type Example = (bool, &'static str, &'static [(&'static str, &'static str)]);

/// The default discovery filter, and nothing else configured.
pub(super) fn security_servers() -> PolicyScope {
    PolicyScope {
        tags: vec![TagFilter::parse("tag:Role=xroad-security-server").unwrap()],
        ..Default::default()
    }
}

/// A deployment's config: the filter, an SSE-KMS evidence bucket and a staged tool.
fn deployment() -> PolicyScope {
    let tool = ToolLocation {
        s3: "s3://ir-tools-111122223333/avml/0.14.0/avml".into(),
        sha256: "0".repeat(64),
    };
    PolicyScope {
        evidence: EvidenceConfig {
            bucket: Some(BUCKET.into()),
            prefix: "evidence/".into(),
            kms_key_arn: Some(KEY.into()),
            memory_tool: [("x86_64".to_owned(), tool)].into(),
        },
        ..security_servers()
    }
}

fn builtins() -> Vec<crate::playbook::Playbook> {
    let playbooks = Catalog::load(None).playbooks;
    assert!(playbooks.len() >= 8, "the built-in playbooks");
    playbooks
}

/// Requests a call on `resource` must be allowed (`true`) or refused (`false`) under
/// `deployment()`. A new `Resource` variant needs its examples here.
fn examples(resource: Resource) -> Vec<Example> {
    const SG: &str = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0aaaaaaaaaaaaaaa1";
    const ROLE: &str = "arn:aws:iam::111122223333:role/ss-prod-1";
    const ADMIN: &str = "arn:aws:iam::111122223333:role/Administrator";
    const OTHER_DATA: &str = "arn:aws:s3:::payroll-111122223333/2025/salaries.csv";
    match resource {
        Resource::Any => vec![(true, "*", &[])],
        Resource::Instance => vec![
            (true, INSTANCE, &[SERVER]),
            (false, INSTANCE, &[("aws:ResourceTag/Role", "bastion")]),
            (false, INSTANCE, &[]),
        ],
        Resource::SecurityGroup | Resource::VpcAndSecurityGroup => vec![(true, SG, &[])],
        Resource::NewSecurityGroup => vec![
            (true, SG, &[("ec2:CreateAction", "CreateSecurityGroup")]),
            (false, SG, &[]),
        ],
        Resource::NetworkInterfaceAndSecurityGroup => vec![(
            true,
            "arn:aws:ec2:eu-west-1:111122223333:network-interface/eni-0aaaaaaaaaaaaaaa1",
            &[],
        )],
        Resource::AutoScalingGroup => vec![(
            true,
            "arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:5f1c:autoScalingGroupName/ss",
            &[],
        )],
        Resource::TargetGroup => vec![(
            true,
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/ss/73e2d6bc24d8a067",
            &[],
        )],
        Resource::ClassicLoadBalancer => vec![(
            true,
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/xroad-classic",
            &[],
        )],
        Resource::NetworkAcl => vec![
            (
                true,
                "arn:aws:ec2:eu-west-1:111122223333:network-acl/acl-0aaaaaaaaaaaaaaa1",
                &[],
            ),
            (
                true,
                "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0aaaaaaaaaaaaaaa1",
                &[],
            ),
            (
                false,
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaaaaaaaaaaaaaa1",
                &[],
            ),
        ],
        Resource::IsolationParameter => vec![
            (
                true,
                "arn:aws:ssm:eu-west-1:111122223333:parameter/breakglass/isolation/i-0aaaaaaaaaaaaaaa1",
                &[],
            ),
            (
                false,
                "arn:aws:ssm:eu-west-1:111122223333:parameter/prod/db-password",
                &[],
            ),
        ],
        Resource::ElasticIp => vec![(
            true,
            "arn:aws:ec2:eu-west-1:111122223333:elastic-ip/eipalloc-0aaaaaaaaaaaaaaa1",
            &[],
        )],
        Resource::SnapshotSource | Resource::Snapshot => vec![(
            true,
            "arn:aws:ec2:eu-west-1::snapshot/snap-0aaaaaaaaaaaaaaa1",
            &[],
        )],
        Resource::Role => vec![
            (true, ROLE, &[SERVER]),
            (false, ROLE, &[]),
            (false, ADMIN, &[("aws:ResourceTag/Team", "platform")]),
        ],
        Resource::InstanceProfile => vec![(
            true,
            "arn:aws:iam::111122223333:instance-profile/ss-prod-1",
            &[],
        )],
        Resource::Session => vec![(
            true,
            "arn:aws:ssm:eu-west-1:111122223333:session/intruder-0a1b2c3d4e5f",
            &[],
        )],
        Resource::KmsKey => vec![
            (
                true,
                FORENSIC_KEY,
                &[("kms:ViaService", "ec2.eu-west-1.amazonaws.com")],
            ),
            (false, FORENSIC_KEY, &[]),
            (
                false,
                FORENSIC_KEY,
                &[("kms:ViaService", "lambda.eu-west-1.amazonaws.com")],
            ),
        ],
        Resource::RunShellScript => vec![
            // The document carries no tags; the instance must carry the filter's.
            (
                true,
                "arn:aws:ssm:eu-west-1::document/AWS-RunShellScript",
                &[],
            ),
            (
                true,
                INSTANCE,
                &[("ssm:resourceTag/Role", "xroad-security-server")],
            ),
            (false, INSTANCE, &[("ssm:resourceTag/Role", "bastion")]),
            (
                false,
                "arn:aws:ssm:eu-west-1::document/AWS-RunPowerShellScript",
                &[],
            ),
            (
                false,
                "arn:aws:ssm:eu-west-1:111122223333:document/AWS-RunShellScript",
                &[],
            ),
        ],
        Resource::EvidenceObject => vec![
            (
                true,
                "arn:aws:s3:::ir-evidence-111122223333/evidence/IR-1/i-1/r/memory.lime",
                &[],
            ),
            (
                false,
                "arn:aws:s3:::ir-evidence-111122223333/breakglass/IR-1/x",
                &[],
            ),
            (
                false,
                "arn:aws:s3:::ir-evidence-111122223333-copy/evidence/IR-1/x",
                &[],
            ),
            (false, OTHER_DATA, &[]),
        ],
        Resource::EvidenceKey => vec![
            (
                true,
                KEY,
                &[("kms:ViaService", "s3.eu-west-1.amazonaws.com")],
            ),
            (false, KEY, &[]),
            (
                false,
                KEY,
                &[("kms:ViaService", "s3.eu-north-1.amazonaws.com")],
            ),
            (
                false,
                FORENSIC_KEY,
                &[("kms:ViaService", "s3.eu-west-1.amazonaws.com")],
            ),
        ],
        Resource::ToolObject => vec![
            (
                true,
                "arn:aws:s3:::ir-tools-111122223333/avml/0.14.0/avml",
                &[],
            ),
            (
                false,
                "arn:aws:s3:::ir-tools-111122223333/avml/0.13.0/avml",
                &[],
            ),
            (false, OTHER_DATA, &[]),
        ],
    }
}

#[test]
fn every_builtin_playbooks_policy_is_snapshotted() {
    for playbook in builtins() {
        let document = policy(&playbook, &deployment()).unwrap();
        insta::assert_json_snapshot!(format!("policy_{}", playbook.name), document);
    }
}

#[test]
fn every_declared_call_is_allowed_inside_the_scope_and_refused_outside() {
    for playbook in builtins() {
        let document = policy(&playbook, &deployment()).unwrap();
        let declared = playbook.steps.iter().flat_map(|s| s.info.calls);
        for call in ENGINE_CALLS.iter().chain(declared) {
            let action = call.iam_action();
            for (expected, resource, context) in examples(call.resource) {
                let request = Request {
                    action: &action,
                    resource,
                    context,
                };
                assert_eq!(
                    allows(&document, &request),
                    expected,
                    "{}: {request:?} in {document:#}",
                    playbook.name
                );
            }
        }
    }
}

#[test]
fn only_calls_without_resource_level_permissions_are_granted_on_everything() {
    let any: Vec<String> = all_calls()
        .filter(|c| c.resource == Resource::Any)
        .map(ApiCall::iam_action)
        .collect();
    for playbook in builtins() {
        let document = policy(&playbook, &deployment()).unwrap();
        for statement in document["Statement"].as_array().unwrap() {
            let resources = statement["Resource"].to_string();
            if resources.contains("\"*\"") {
                for action in statement["Action"].as_array().unwrap() {
                    assert!(
                        any.iter().any(|a| a == action.as_str().unwrap()),
                        "{}: {action} on * in {statement}",
                        playbook.name
                    );
                }
            }
        }
    }
}

fn all_calls() -> impl Iterator<Item = &'static ApiCall> {
    crate::playbook::actions::ACTIONS
        .iter()
        .flat_map(|a| a.calls)
        .chain(ENGINE_CALLS)
}

#[test]
fn a_role_path_replaces_the_tag_condition_on_instance_roles() {
    let revoke = Catalog::load(None).find("revoke-sessions").unwrap().clone();
    let scope = PolicyScope {
        role_path: Some("/xroad/".into()),
        ..deployment()
    };
    let document = policy(&revoke, &scope).unwrap();
    let put = |resource, context| Request {
        action: "iam:PutRolePolicy",
        resource,
        context,
    };
    let under = "arn:aws:iam::111122223333:role/xroad/ss-prod-1";
    assert!(allows(&document, &put(under, &[])));
    assert!(!allows(
        &document,
        &put("arn:aws:iam::111122223333:role/ss-prod-1", &[SERVER])
    ));
    assert!(!allows(
        &document,
        &put("arn:aws:iam::111122223333:role/xroadAdmin", &[])
    ));
    insta::assert_json_snapshot!("policy_revoke-sessions_role_path", document);
}

#[test]
fn role_writes_with_nothing_to_narrow_them_are_refused() {
    let revoke = Catalog::load(None).find("revoke-sessions").unwrap().clone();
    let scope = PolicyScope {
        tags: Vec::new(),
        ..deployment()
    };
    let err = policy(&revoke, &scope).unwrap_err();
    assert_eq!(err, PolicyError::UnscopedRoles);
    assert!(err.hint().contains("[revoke] role_path"), "{}", err.hint());
    // Playbooks that write to no role need neither.
    let tag = Catalog::load(None).find("tag-incident").unwrap().clone();
    assert!(policy(&tag, &scope).is_ok());
}

#[test]
fn without_a_bucket_key_or_tool_the_evidence_grants_fall_back_or_vanish() {
    let capture = Catalog::load(None).find("capture-memory").unwrap().clone();
    let document = policy(&capture, &security_servers()).unwrap();
    let text = document.to_string();
    // Any bucket, but only under the default prefix; no key and no tool to grant.
    assert!(text.contains("\"arn:aws:s3:::*/breakglass/*\""), "{text}");
    assert!(!text.contains("kms:"), "{text}");
    assert!(!text.contains("BreakglassAcquisitionTools"), "{text}");
}
