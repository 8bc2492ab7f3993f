//! What an action declares about itself: the AWS calls it may make (service, operation,
//! read or write, what IAM can scope them to) and what it needs from or takes away from the
//! instance. That one declaration drives the plan, the dry-run, the executor's audit
//! records and the IAM policy (`breakglass playbook policy`), so they cannot drift apart.

use serde::Serialize;

/// An AWS service an action calls, with its IAM action prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Ec2,
    AutoScaling,
    ElasticLoadBalancing,
    /// Classic Load Balancers (the 2012-06-01 API; same IAM prefix as v2).
    ClassicElb,
    Ssm,
    Iam,
    S3,
    Sts,
    Kms,
}

impl Service {
    /// The service's name in audit records and plans (the SDK's name).
    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::AutoScaling => "autoscaling",
            Service::ElasticLoadBalancing => "elbv2",
            Service::ClassicElb => "elb",
            Service::Ssm => "ssm",
            Service::Iam => "iam",
            Service::S3 => "s3",
            Service::Sts => "sts",
            Service::Kms => "kms",
        }
    }

    /// The prefix of the service's IAM actions.
    pub fn iam_prefix(self) -> &'static str {
        match self {
            Service::ElasticLoadBalancing | Service::ClassicElb => "elasticloadbalancing",
            other => other.name(),
        }
    }
}

/// Whether a call reads or changes something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// What an IAM statement for the call can be scoped to; `playbook::policy` turns each into
/// ARNs and conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The call supports no resource-level permissions (`Describe*`).
    Any,
    /// An EC2 instance (a target).
    Instance,
    /// An existing security group.
    SecurityGroup,
    /// Creating a security group: the VPC and the new group.
    VpcAndSecurityGroup,
    /// Tags set on a security group as it is created (`ec2:CreateAction`).
    NewSecurityGroup,
    /// Changing an interface's groups: the interface and the groups.
    NetworkInterfaceAndSecurityGroup,
    /// An Auto Scaling group (the target's).
    AutoScalingGroup,
    /// An ELB target group.
    TargetGroup,
    /// A Classic Load Balancer.
    ClassicLoadBalancer,
    /// A network ACL (with the VPC it is created in and the subnet it is associated with).
    NetworkAcl,
    /// The SSM parameters holding isolation records (`/breakglass/isolation/*`).
    IsolationParameter,
    /// An Elastic IP association (authorized on the address and the instance).
    ElasticIp,
    /// Snapshotting an instance: the instance, its volumes and the new snapshots.
    SnapshotSource,
    /// A snapshot.
    Snapshot,
    /// An IAM role (the instance's).
    Role,
    /// An IAM instance profile.
    InstanceProfile,
    /// A Session Manager session.
    Session,
    /// A KMS key (used on the caller's behalf by EBS).
    KmsKey,
    /// Run Command: the instance and the `AWS-RunShellScript` document.
    RunShellScript,
    /// Objects under the evidence prefix (`[evidence]` bucket).
    EvidenceObject,
    /// The evidence bucket's KMS key (`[evidence] kms_key_arn`), used by S3 on the caller's
    /// behalf.
    EvidenceKey,
    /// The staged acquisition tools.
    ToolObject,
}

/// One AWS API call an action may make.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    pub service: Service,
    /// The API operation, which is also the IAM action name.
    pub operation: &'static str,
    pub access: Access,
    pub resource: Resource,
}

impl ApiCall {
    pub const fn new(
        service: Service,
        operation: &'static str,
        access: Access,
        resource: Resource,
    ) -> ApiCall {
        ApiCall {
            service,
            operation,
            access,
            resource,
        }
    }

    pub fn iam_action(&self) -> String {
        format!("{}:{}", self.service.iam_prefix(), self.operation)
    }
}

/// Something a step may need from the instance, or take away from it; used to reject
/// unsafe step orders (e.g. a memory capture after the credentials it needs are revoked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// The SSM agent on the instance can reach Systems Manager (network path and the
    /// instance role's credentials), so Run Command and sessions work.
    SsmAgent,
    /// The instance's memory (lost when it stops).
    Memory,
}

impl Capability {
    pub fn describe(self) -> &'static str {
        match self {
            Capability::SsmAgent => "a working SSM agent on the instance",
            Capability::Memory => "the instance's memory (it must still be running)",
        }
    }
}

/// What the engine knows about an action.
#[derive(Debug, Serialize)]
pub struct ActionInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Every call the action may make, reads included.
    pub calls: &'static [ApiCall],
    /// Whether a step with this action asks for confirmation unless it says otherwise.
    pub confirm_by_default: bool,
    /// What must still work on the instance when the step runs.
    pub needs: &'static [Capability],
    /// What the step takes away for the steps after it.
    pub cuts: &'static [Capability],
}

impl ActionInfo {
    /// The declared call for `operation`; actions only make calls they declare.
    pub fn call(&'static self, operation: &str) -> Option<&'static ApiCall> {
        self.calls.iter().find(|c| c.operation == operation)
    }
}
