//! EC2 calls for containment: instance attributes, security groups and their rules, and
//! the groups of each network interface. One method per AWS call, so every call can be
//! recorded on its own; mutations take `dry_run`.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, InstanceAttributeName, InstanceBlockDeviceMappingSpecification,
    IpPermission, IpRange, Ipv6Range, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use aws_types::request_id::RequestId;
use serde::{Deserialize, Serialize};

use super::ec2::to_group;
use super::{Answer, Applied, AwsError, Ec2, Ec2Filter, GroupRef, ec2_mutation};

/// One security group rule (a whole `IpPermission`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `-1` for all protocols, else `tcp`, `udp`, `icmp`, …
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidrs: Vec<String>,
    pub ipv6_cidrs: Vec<String>,
    /// Security group ids the rule refers to.
    pub groups: Vec<String>,
    pub prefix_lists: Vec<String>,
}

impl Rule {
    /// Everything, anywhere (IPv4 and IPv6).
    pub fn allow_all() -> Rule {
        Rule {
            protocol: "-1".into(),
            from_port: None,
            to_port: None,
            cidrs: vec!["0.0.0.0/0".into()],
            ipv6_cidrs: vec!["::/0".into()],
            groups: Vec::new(),
            prefix_lists: Vec::new(),
        }
    }

    /// HTTPS to the members of one security group.
    pub fn https_to_group(group_id: &str) -> Rule {
        Rule {
            protocol: "tcp".into(),
            from_port: Some(443),
            to_port: Some(443),
            cidrs: Vec::new(),
            ipv6_cidrs: Vec::new(),
            groups: vec![group_id.to_owned()],
            prefix_lists: Vec::new(),
        }
    }

    fn to_sdk(&self) -> IpPermission {
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from_port)
            .set_to_port(self.to_port)
            .set_ip_ranges(Some(
                self.cidrs
                    .iter()
                    .map(|c| IpRange::builder().cidr_ip(c).build())
                    .collect(),
            ))
            .set_ipv6_ranges(Some(
                self.ipv6_cidrs
                    .iter()
                    .map(|c| Ipv6Range::builder().cidr_ipv6(c).build())
                    .collect(),
            ))
            .set_user_id_group_pairs(Some(
                self.groups
                    .iter()
                    .map(|g| UserIdGroupPair::builder().group_id(g).build())
                    .collect(),
            ))
            .build()
    }

    fn from_sdk(p: &IpPermission) -> Rule {
        Rule {
            protocol: p.ip_protocol().unwrap_or("-1").to_owned(),
            from_port: p.from_port(),
            to_port: p.to_port(),
            cidrs: p
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_owned))
                .collect(),
            ipv6_cidrs: p
                .ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6().map(str::to_owned))
                .collect(),
            groups: p
                .user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_owned))
                .collect(),
            prefix_lists: p
                .prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id().map(str::to_owned))
                .collect(),
        }
    }
}

/// A security group with its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

/// A network interface attached to an instance, as `DescribeNetworkInterfaces` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceGroups {
    pub id: String,
    pub device_index: i32,
    pub groups: Vec<GroupRef>,
}

/// An instance attribute breakglass reads or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceAttribute {
    DisableApiTermination,
    InstanceInitiatedShutdownBehavior,
}

/// One change of an instance attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceChange {
    DisableApiTermination(bool),
    /// `stop` or `terminate`.
    InstanceInitiatedShutdownBehavior(String),
    DeleteOnTermination {
        device: String,
        value: bool,
    },
}

/// A created resource: the call's result and the new id (none in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub applied: Applied,
    pub id: Option<String>,
}

impl super::Change for Created {
    fn applied(&self) -> &Applied {
        &self.applied
    }
}

/// An Elastic IP associated with an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElasticIp {
    pub public_ip: String,
    pub allocation_id: Option<String>,
    pub association_id: Option<String>,
    pub network_interface_id: Option<String>,
}

/// An instance profile associated with an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileAssociation {
    pub association_id: String,
    pub instance_id: String,
    pub profile_arn: String,
}

/// The containment calls on EC2.
pub trait Ec2ContainApi: Send + Sync {
    /// `DescribeInstanceAttribute`: the value as text (`true`, `false`, `stop`, …).
    fn describe_attribute(
        &self,
        instance_id: &str,
        attribute: InstanceAttribute,
    ) -> impl Future<Output = Result<Answer<String>, AwsError>> + Send;

    /// `ModifyInstanceAttribute` with one change.
    fn modify_instance(
        &self,
        instance_id: &str,
        change: &InstanceChange,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `DescribeSecurityGroups` matching every filter.
    fn describe_security_groups(
        &self,
        filters: &[Ec2Filter],
    ) -> impl Future<Output = Result<Answer<Vec<SecurityGroup>>, AwsError>> + Send;

    /// `CreateSecurityGroup` in `vpc_id`, tagged at creation.
    fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> impl Future<Output = Result<Created, AwsError>> + Send;

    fn authorize_ingress(
        &self,
        group_id: &str,
        rule: &Rule,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn authorize_egress(
        &self,
        group_id: &str,
        rule: &Rule,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn revoke_egress(
        &self,
        group_id: &str,
        rules: &[Rule],
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `DescribeNetworkInterfaces` of the interfaces attached to an instance.
    fn describe_instance_interfaces(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<InterfaceGroups>>, AwsError>> + Send;

    /// `DescribeAddresses` of the Elastic IPs associated with an instance.
    fn describe_instance_addresses(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<ElasticIp>>, AwsError>> + Send;

    /// `DescribeRouteTables` matching every filter: `(destination, target id)` of each route.
    fn describe_routes(
        &self,
        filters: &[Ec2Filter],
    ) -> impl Future<Output = Result<Answer<Vec<(String, String)>>, AwsError>> + Send;

    /// `DescribeIamInstanceProfileAssociations`: every associated instance profile in the
    /// region.
    fn describe_profile_associations(
        &self,
    ) -> impl Future<Output = Result<Answer<Vec<ProfileAssociation>>, AwsError>> + Send;

    /// `DisassociateIamInstanceProfile` (EC2 offers no DryRun for it).
    fn disassociate_profile(
        &self,
        association_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn disassociate_address(
        &self,
        association_id: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn stop_instance(
        &self,
        instance_id: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `ModifyNetworkInterfaceAttribute`: replaces the interface's groups.
    fn set_interface_groups(
        &self,
        interface_id: &str,
        group_ids: &[String],
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

fn filters(filters: &[Ec2Filter]) -> Option<Vec<Filter>> {
    Some(
        filters
            .iter()
            .map(|f| {
                Filter::builder()
                    .name(&f.name)
                    .set_values(Some(f.values.clone()))
                    .build()
            })
            .collect(),
    )
}

impl Ec2ContainApi for Ec2 {
    async fn describe_attribute(
        &self,
        instance_id: &str,
        attribute: InstanceAttribute,
    ) -> Result<Answer<String>, AwsError> {
        let name = match attribute {
            InstanceAttribute::DisableApiTermination => {
                InstanceAttributeName::DisableApiTermination
            }
            InstanceAttribute::InstanceInitiatedShutdownBehavior => {
                InstanceAttributeName::InstanceInitiatedShutdownBehavior
            }
        };
        let out = self
            .client()
            .describe_instance_attribute()
            .instance_id(instance_id)
            .attribute(name)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ec2", "DescribeInstanceAttribute", self.region(), &e)
            })?;
        let value = match attribute {
            InstanceAttribute::DisableApiTermination => out
                .disable_api_termination()
                .and_then(|v| v.value())
                .unwrap_or(false)
                .to_string(),
            InstanceAttribute::InstanceInitiatedShutdownBehavior => out
                .instance_initiated_shutdown_behavior()
                .and_then(|v| v.value())
                .unwrap_or("stop")
                .to_owned(),
        };
        Ok(Answer {
            value,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn modify_instance(
        &self,
        instance_id: &str,
        change: &InstanceChange,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let request = self
            .client()
            .modify_instance_attribute()
            .instance_id(instance_id)
            .dry_run(dry_run);
        let request = match change {
            InstanceChange::DisableApiTermination(value) => request
                .disable_api_termination(AttributeBooleanValue::builder().value(*value).build()),
            InstanceChange::InstanceInitiatedShutdownBehavior(value) => request
                .instance_initiated_shutdown_behavior(
                    aws_sdk_ec2::types::AttributeValue::builder()
                        .value(value)
                        .build(),
                ),
            InstanceChange::DeleteOnTermination { device, value } => request.block_device_mappings(
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(device)
                    .ebs(
                        aws_sdk_ec2::types::EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(*value)
                            .build(),
                    )
                    .build(),
            ),
        };
        ec2_mutation(
            "ModifyInstanceAttribute",
            self.region(),
            request.send().await,
        )
    }

    async fn describe_security_groups(
        &self,
        filter: &[Ec2Filter],
    ) -> Result<Answer<Vec<SecurityGroup>>, AwsError> {
        let out = self
            .client()
            .describe_security_groups()
            .set_filters(filters(filter))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeSecurityGroups", self.region(), &e))?;
        let groups = out
            .security_groups()
            .iter()
            .filter_map(|g| {
                Some(SecurityGroup {
                    id: g.group_id()?.to_owned(),
                    name: g.group_name().unwrap_or_default().to_owned(),
                    vpc_id: g.vpc_id().map(str::to_owned),
                    tags: g
                        .tags()
                        .iter()
                        .filter_map(|t| {
                            Some((
                                t.key()?.to_owned(),
                                t.value().unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect(),
                    ingress: g.ip_permissions().iter().map(Rule::from_sdk).collect(),
                    egress: g
                        .ip_permissions_egress()
                        .iter()
                        .map(Rule::from_sdk)
                        .collect(),
                })
            })
            .collect();
        Ok(Answer {
            value: groups,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<Created, AwsError> {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build();
        let result = self
            .client()
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .tag_specifications(tags)
            .dry_run(dry_run)
            .send()
            .await;
        let id = result
            .as_ref()
            .ok()
            .and_then(|o| o.group_id().map(str::to_owned));
        let applied = ec2_mutation("CreateSecurityGroup", self.region(), result)?;
        Ok(Created { applied, id })
    }

    async fn authorize_ingress(
        &self,
        group_id: &str,
        rule: &Rule,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(rule.to_sdk())
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("AuthorizeSecurityGroupIngress", self.region(), result)
    }

    async fn authorize_egress(
        &self,
        group_id: &str,
        rule: &Rule,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .authorize_security_group_egress()
            .group_id(group_id)
            .ip_permissions(rule.to_sdk())
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("AuthorizeSecurityGroupEgress", self.region(), result)
    }

    async fn revoke_egress(
        &self,
        group_id: &str,
        rules: &[Rule],
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .revoke_security_group_egress()
            .group_id(group_id)
            .set_ip_permissions(Some(rules.iter().map(Rule::to_sdk).collect()))
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("RevokeSecurityGroupEgress", self.region(), result)
    }

    async fn describe_instance_interfaces(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Vec<InterfaceGroups>>, AwsError> {
        let out = self
            .client()
            .describe_network_interfaces()
            .filters(
                Filter::builder()
                    .name("attachment.instance-id")
                    .values(instance_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ec2", "DescribeNetworkInterfaces", self.region(), &e)
            })?;
        let mut interfaces: Vec<InterfaceGroups> = out
            .network_interfaces()
            .iter()
            .filter_map(|eni| {
                Some(InterfaceGroups {
                    id: eni.network_interface_id()?.to_owned(),
                    device_index: eni
                        .attachment()
                        .and_then(|a| a.device_index())
                        .unwrap_or_default(),
                    groups: eni.groups().iter().filter_map(to_group).collect(),
                })
            })
            .collect();
        interfaces.sort_by_key(|i| i.device_index);
        Ok(Answer {
            value: interfaces,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn set_interface_groups(
        &self,
        interface_id: &str,
        group_ids: &[String],
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .modify_network_interface_attribute()
            .network_interface_id(interface_id)
            .set_groups(Some(group_ids.to_vec()))
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("ModifyNetworkInterfaceAttribute", self.region(), result)
    }

    async fn describe_instance_addresses(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Vec<ElasticIp>>, AwsError> {
        let out = self
            .client()
            .describe_addresses()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .values(instance_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeAddresses", self.region(), &e))?;
        Ok(Answer {
            value: out
                .addresses()
                .iter()
                .filter_map(|a| {
                    Some(ElasticIp {
                        public_ip: a.public_ip()?.to_owned(),
                        allocation_id: a.allocation_id().map(str::to_owned),
                        association_id: a.association_id().map(str::to_owned),
                        network_interface_id: a.network_interface_id().map(str::to_owned),
                    })
                })
                .collect(),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn disassociate_address(
        &self,
        association_id: &str,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .disassociate_address()
            .association_id(association_id)
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("DisassociateAddress", self.region(), result)
    }

    async fn stop_instance(&self, instance_id: &str, dry_run: bool) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .stop_instances()
            .instance_ids(instance_id)
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("StopInstances", self.region(), result)
    }

    async fn describe_routes(
        &self,
        filter: &[Ec2Filter],
    ) -> Result<Answer<Vec<(String, String)>>, AwsError> {
        let out = self
            .client()
            .describe_route_tables()
            .set_filters(filters(filter))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeRouteTables", self.region(), &e))?;
        let routes = out
            .route_tables()
            .iter()
            .flat_map(|t| t.routes())
            .filter_map(|r| {
                let destination = r
                    .destination_cidr_block()
                    .or(r.destination_ipv6_cidr_block())
                    .or(r.destination_prefix_list_id())?;
                let target = r
                    .nat_gateway_id()
                    .or(r.transit_gateway_id())
                    .or(r.egress_only_internet_gateway_id())
                    .or(r.gateway_id())
                    .or(r.vpc_peering_connection_id())
                    .or(r.network_interface_id())?;
                Some((destination.to_owned(), target.to_owned()))
            })
            .collect();
        Ok(Answer {
            value: routes,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn describe_profile_associations(
        &self,
    ) -> Result<Answer<Vec<ProfileAssociation>>, AwsError> {
        let mut pages = self
            .client()
            .describe_iam_instance_profile_associations()
            .into_paginator()
            .send();
        let mut associations = Vec::new();
        let mut request_id = None;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk(
                    "ec2",
                    "DescribeIamInstanceProfileAssociations",
                    self.region(),
                    &e,
                )
            })?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            associations.extend(
                page.iam_instance_profile_associations()
                    .iter()
                    .filter_map(|a| {
                        let associated = matches!(
                            a.state().map(|s| s.as_str()),
                            None | Some("associated" | "associating")
                        );
                        associated.then_some(ProfileAssociation {
                            association_id: a.association_id()?.to_owned(),
                            instance_id: a.instance_id()?.to_owned(),
                            profile_arn: a.iam_instance_profile()?.arn()?.to_owned(),
                        })
                    }),
            );
        }
        Ok(Answer {
            value: associations,
            request_id,
        })
    }

    async fn disassociate_profile(&self, association_id: &str) -> Result<Applied, AwsError> {
        let out = self
            .client()
            .disassociate_iam_instance_profile()
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ec2", "DisassociateIamInstanceProfile", self.region(), &e)
            })?;
        Ok(Applied::Done {
            request_id: out.request_id().map(str::to_owned),
        })
    }
}
