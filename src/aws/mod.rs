//! The AWS layer: one shared SDK configuration and one trait per service, with domain
//! types in and out. Nothing outside this module touches SDK types.

mod autoscaling;
mod clock;
mod ec2;
mod ec2_acls;
mod ec2_contain;
mod ec2_evidence;
mod ec2_groups;
mod elb_classic;
mod elbv2;
mod error;
mod iam;
mod kms;
mod logs;
mod mutation;
mod retry;
mod run_command;
mod s3;
mod sdk;
mod sessions;
mod ssm;
mod sts;

pub use autoscaling::{AsgGroup, AsgMembership, AutoScaling, AutoScalingApi};
pub use ec2::{
    EbsVolume, Ec2, Ec2Api, Ec2Filter, GroupRef, Instance, MetadataOptions, NetworkInterface,
};
pub use ec2_acls::{Ec2AclApi, SubnetAcl};
pub use ec2_contain::{
    Created, Ec2ContainApi, ElasticIp, InstanceAttribute, InstanceChange, InterfaceGroups,
    ProfileAssociation,
};
pub use ec2_evidence::{Ec2EvidenceApi, Snapshot, SnapshotsCreated};
pub use ec2_groups::{Ec2GroupsApi, Rule, SecurityGroup};
pub use elb_classic::{ClassicElb, ClassicElbApi};
pub use elbv2::{Elbv2, Elbv2Api, Target, TargetGroup, TargetGroupInfo};
pub use error::{AwsError, AwsErrorKind, ProviderFailure};
pub use iam::{ContextValue, Decision, Iam, IamApi};
pub use kms::Kms;
pub use logs::{
    CloudWatchLogs, CloudWatchLogsApi, LogEvent, LogGroupInfo, RejectedEvents, StreamCreated,
};
pub use mutation::{Answer, Applied, Change, DRY_RUN_OPERATION, ec2_mutation};
pub use run_command::{EvidenceStoreApi, Invocation, RunCommandApi, StoredObject};
pub use s3::{
    DefaultRetention, ObjectLock, ObjectRetention, ObjectUpload, RetentionMode, S3, S3Api,
    UploadedObject, sha256_base64,
};
pub use sdk::{AwsContext, AwsSettings, SandboxEndpoint, home_region};
pub use sessions::{SessionApi, SessionResumer, StreamAccess};
pub use ssm::{ManagedInstance, Ssm, SsmApi};
pub use sts::{CallerIdentity, Sts, StsApi};
