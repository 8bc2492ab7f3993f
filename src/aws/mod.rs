//! The AWS layer: one shared SDK configuration and one trait per service, with domain
//! types in and out. Nothing outside this module touches SDK types.

mod autoscaling;
mod ec2;
mod elbv2;
mod error;
mod mutation;
mod sdk;
mod ssm;
mod sts;

pub use autoscaling::{AsgMembership, AutoScaling, AutoScalingApi};
pub use ec2::{Ec2, Ec2Api, Ec2Filter, GroupRef, Instance, NetworkInterface};
pub use elbv2::{Elbv2, Elbv2Api, Target, TargetGroup};
pub use error::{AwsError, AwsErrorKind};
pub use mutation::{Applied, DRY_RUN_OPERATION, ec2_mutation};
pub use sdk::{AwsContext, AwsSettings, SandboxEndpoint};
pub use ssm::{ManagedInstance, Ssm, SsmApi};
pub use sts::{CallerIdentity, Sts, StsApi};
