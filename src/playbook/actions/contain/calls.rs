//! The AWS calls of `isolate` and `release`, declared once.

use crate::playbook::actions::{Access, ApiCall, Resource, Service};

use Access::{Read, Write};
use Service::{AutoScaling, ClassicElb, Ec2, ElasticLoadBalancing, Ssm};

pub const DESCRIBE_INSTANCES: ApiCall = ApiCall::new(Ec2, "DescribeInstances", Read, Resource::Any);
pub const DESCRIBE_INSTANCE_ATTRIBUTE: ApiCall =
    ApiCall::new(Ec2, "DescribeInstanceAttribute", Read, Resource::Any);
pub const DESCRIBE_ROUTE_TABLES: ApiCall =
    ApiCall::new(Ec2, "DescribeRouteTables", Read, Resource::Any);
pub const DESCRIBE_SECURITY_GROUPS: ApiCall =
    ApiCall::new(Ec2, "DescribeSecurityGroups", Read, Resource::Any);
pub const MODIFY_INSTANCE_ATTRIBUTE: ApiCall =
    ApiCall::new(Ec2, "ModifyInstanceAttribute", Write, Resource::Instance);
pub const CREATE_SECURITY_GROUP: ApiCall = ApiCall::new(
    Ec2,
    "CreateSecurityGroup",
    Write,
    Resource::VpcAndSecurityGroup,
);
pub const AUTHORIZE_INGRESS: ApiCall = ApiCall::new(
    Ec2,
    "AuthorizeSecurityGroupIngress",
    Write,
    Resource::SecurityGroup,
);
pub const AUTHORIZE_EGRESS: ApiCall = ApiCall::new(
    Ec2,
    "AuthorizeSecurityGroupEgress",
    Write,
    Resource::SecurityGroup,
);
pub const REVOKE_EGRESS: ApiCall = ApiCall::new(
    Ec2,
    "RevokeSecurityGroupEgress",
    Write,
    Resource::SecurityGroup,
);
pub const MODIFY_NETWORK_INTERFACE_ATTRIBUTE: ApiCall = ApiCall::new(
    Ec2,
    "ModifyNetworkInterfaceAttribute",
    Write,
    Resource::NetworkInterfaceAndSecurityGroup,
);
pub const CREATE_TAGS: ApiCall = crate::playbook::actions::tag::CREATE_TAGS;
/// The tags `CreateSecurityGroup` sets on the new group (authorized as `ec2:CreateTags`).
pub const TAG_NEW_SECURITY_GROUP: ApiCall =
    ApiCall::new(Ec2, "CreateTags", Write, Resource::NewSecurityGroup);

pub const DESCRIBE_AUTO_SCALING_INSTANCES: ApiCall =
    crate::playbook::actions::scale_in::DESCRIBE_AUTO_SCALING_INSTANCES;
pub const DESCRIBE_AUTO_SCALING_GROUPS: ApiCall =
    crate::playbook::actions::scale_in::DESCRIBE_AUTO_SCALING_GROUPS;
pub const SET_INSTANCE_PROTECTION: ApiCall =
    crate::playbook::actions::scale_in::SET_INSTANCE_PROTECTION;
pub const ENTER_STANDBY: ApiCall = ApiCall::new(
    AutoScaling,
    "EnterStandby",
    Write,
    Resource::AutoScalingGroup,
);
pub const EXIT_STANDBY: ApiCall = ApiCall::new(
    AutoScaling,
    "ExitStandby",
    Write,
    Resource::AutoScalingGroup,
);
pub const DETACH_INSTANCES: ApiCall = ApiCall::new(
    AutoScaling,
    "DetachInstances",
    Write,
    Resource::AutoScalingGroup,
);
pub const ATTACH_INSTANCES: ApiCall = ApiCall::new(
    AutoScaling,
    "AttachInstances",
    Write,
    Resource::AutoScalingGroup,
);
pub const UPDATE_AUTO_SCALING_GROUP: ApiCall = ApiCall::new(
    AutoScaling,
    "UpdateAutoScalingGroup",
    Write,
    Resource::AutoScalingGroup,
);

pub const DESCRIBE_TARGET_GROUPS: ApiCall = ApiCall::new(
    ElasticLoadBalancing,
    "DescribeTargetGroups",
    Read,
    Resource::Any,
);
pub const DESCRIBE_TARGET_HEALTH: ApiCall = ApiCall::new(
    ElasticLoadBalancing,
    "DescribeTargetHealth",
    Read,
    Resource::Any,
);
pub const DEREGISTER_TARGETS: ApiCall = ApiCall::new(
    ElasticLoadBalancing,
    "DeregisterTargets",
    Write,
    Resource::TargetGroup,
);
pub const REGISTER_TARGETS: ApiCall = ApiCall::new(
    ElasticLoadBalancing,
    "RegisterTargets",
    Write,
    Resource::TargetGroup,
);

pub const DESCRIBE_LOAD_BALANCERS: ApiCall =
    ApiCall::new(ClassicElb, "DescribeLoadBalancers", Read, Resource::Any);
pub const DEREGISTER_INSTANCES: ApiCall = ApiCall::new(
    ClassicElb,
    "DeregisterInstancesFromLoadBalancer",
    Write,
    Resource::ClassicLoadBalancer,
);
pub const REGISTER_INSTANCES: ApiCall = ApiCall::new(
    ClassicElb,
    "RegisterInstancesWithLoadBalancer",
    Write,
    Resource::ClassicLoadBalancer,
);

pub const GET_PARAMETER: ApiCall =
    ApiCall::new(Ssm, "GetParameter", Read, Resource::IsolationParameter);
pub const PUT_PARAMETER: ApiCall =
    ApiCall::new(Ssm, "PutParameter", Write, Resource::IsolationParameter);

/// Every call `isolate` may make.
pub const ISOLATE: &[ApiCall] = &[
    DESCRIBE_INSTANCES,
    DESCRIBE_INSTANCE_ATTRIBUTE,
    DESCRIBE_ROUTE_TABLES,
    DESCRIBE_SECURITY_GROUPS,
    MODIFY_INSTANCE_ATTRIBUTE,
    CREATE_SECURITY_GROUP,
    TAG_NEW_SECURITY_GROUP,
    AUTHORIZE_INGRESS,
    AUTHORIZE_EGRESS,
    REVOKE_EGRESS,
    MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
    CREATE_TAGS,
    DESCRIBE_AUTO_SCALING_INSTANCES,
    DESCRIBE_AUTO_SCALING_GROUPS,
    SET_INSTANCE_PROTECTION,
    ENTER_STANDBY,
    DETACH_INSTANCES,
    DESCRIBE_TARGET_GROUPS,
    DESCRIBE_TARGET_HEALTH,
    DEREGISTER_TARGETS,
    DESCRIBE_LOAD_BALANCERS,
    DEREGISTER_INSTANCES,
    GET_PARAMETER,
    PUT_PARAMETER,
];

/// Every call `release` may make.
pub const RELEASE: &[ApiCall] = &[
    crate::playbook::actions::revoke::GET_INSTANCE_PROFILE,
    crate::playbook::actions::revoke::GET_ROLE_POLICY,
    crate::playbook::actions::revoke::DELETE_ROLE_POLICY,
    crate::playbook::actions::revoke::PUT_ROLE_POLICY,
    DESCRIBE_INSTANCES,
    DESCRIBE_INSTANCE_ATTRIBUTE,
    MODIFY_INSTANCE_ATTRIBUTE,
    MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
    CREATE_TAGS,
    DESCRIBE_AUTO_SCALING_INSTANCES,
    DESCRIBE_AUTO_SCALING_GROUPS,
    SET_INSTANCE_PROTECTION,
    EXIT_STANDBY,
    ATTACH_INSTANCES,
    UPDATE_AUTO_SCALING_GROUP,
    DESCRIBE_TARGET_GROUPS,
    DESCRIBE_TARGET_HEALTH,
    REGISTER_TARGETS,
    DESCRIBE_LOAD_BALANCERS,
    REGISTER_INSTANCES,
    GET_PARAMETER,
    crate::playbook::actions::subnet_acl::DESCRIBE_NETWORK_ACLS,
    crate::playbook::actions::subnet_acl::REPLACE_ASSOCIATION,
    crate::playbook::actions::subnet_acl::DELETE_NETWORK_ACL,
    crate::playbook::actions::subnet_acl::TAG_NETWORK_ACL,
];
