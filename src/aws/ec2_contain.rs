//! EC2 calls for containment: instance attributes, the groups of each network interface,
//! addresses, routes, instance profiles. One method per AWS call, so every call can be
//! recorded on its own; mutations take `dry_run`. Security groups: `ec2_groups.rs`.

use std::future::Future;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, InstanceAttributeName, InstanceBlockDeviceMappingSpecification,
};
use aws_types::request_id::RequestId;
use serde::Serialize;

use super::ec2::to_group;
use super::{Answer, Applied, AwsError, Ec2, GroupRef, ec2_mutation};

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

    /// `DescribeNetworkInterfaces` of the interfaces attached to an instance. The playbooks
    /// take interfaces from `DescribeInstances`; the tests read them back this other way.
    fn describe_instance_interfaces(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<InterfaceGroups>>, AwsError>> + Send;

    /// `DescribeAddresses` of the Elastic IPs associated with an instance.
    fn describe_instance_addresses(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<ElasticIp>>, AwsError>> + Send;

    /// `DescribeRouteTables` of the VPC, one call: `(destination, target id)` of each route
    /// of the table the subnet uses — its own, else the VPC's main one.
    fn subnet_routes(
        &self,
        vpc_id: &str,
        subnet_id: &str,
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

    async fn subnet_routes(
        &self,
        vpc_id: &str,
        subnet_id: &str,
    ) -> Result<Answer<Vec<(String, String)>>, AwsError> {
        let out = self
            .client()
            .describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeRouteTables", self.region(), &e))?;
        let tables = out.route_tables();
        let associated = |t: &&aws_sdk_ec2::types::RouteTable, own: bool| {
            t.associations().iter().any(|a| {
                if own {
                    a.subnet_id() == Some(subnet_id)
                } else {
                    a.main() == Some(true)
                }
            })
        };
        let table = tables
            .iter()
            .find(|t| associated(t, true))
            .or_else(|| tables.iter().find(|t| associated(t, false)));
        let routes = table
            .into_iter()
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
            .customize()
            .config_override(super::retry::ec2_once())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ec2", "DisassociateIamInstanceProfile", self.region(), &e)
            })?;
        Ok(Applied::done(out.request_id()))
    }
}
