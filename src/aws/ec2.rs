//! EC2: the `Ec2Api` trait and its SDK implementation; SDK types stay inside this file.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{Filter, Instance as SdkInstance, Tag};
use serde::Serialize;

use aws_types::request_id::RequestId;

use super::{Answer, Applied, AwsError, ec2_mutation};

/// An EC2 describe filter (`Name` with any of `Values`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// A security group reference as EC2 reports it on an instance or ENI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

/// One network interface attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NetworkInterface {
    pub id: String,
    pub device_index: i32,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    /// Whether the public IP is an Elastic IP (owned by an account, not by Amazon).
    pub elastic_ip: bool,
    pub groups: Vec<GroupRef>,
}

/// An EBS volume attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EbsVolume {
    pub device: String,
    pub volume_id: String,
    pub delete_on_termination: bool,
}

/// The instance metadata service options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MetadataOptions {
    /// `required` (IMDSv2 only) or `optional`.
    pub http_tokens: Option<String>,
    /// `enabled` or `disabled`.
    pub http_endpoint: Option<String>,
    pub hop_limit: Option<i32>,
}

/// The EC2 view of one instance, in domain types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub state: String,
    pub private_ip: Option<String>,
    pub availability_zone: Option<String>,
    pub platform: String,
    pub architecture: Option<String>,
    pub instance_type: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_profile_arn: Option<String>,
    pub security_groups: Vec<GroupRef>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub volumes: Vec<EbsVolume>,
    pub metadata: Option<MetadataOptions>,
    pub tags: BTreeMap<String, String>,
}

/// The EC2 calls breakglass makes.
pub trait Ec2Api: Send + Sync {
    /// Every instance matching all `filters`, following every page to the end.
    fn describe_instances(
        &self,
        filters: &[Ec2Filter],
    ) -> impl Future<Output = Result<Vec<Instance>, AwsError>> + Send;

    /// Like `describe_instances`, with the request id of the first page.
    fn find_instances(
        &self,
        filters: &[Ec2Filter],
    ) -> impl Future<Output = Result<Answer<Vec<Instance>>, AwsError>> + Send;

    /// One instance by id (`None` when EC2 does not know it), with the request id.
    fn describe_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Option<Instance>>, AwsError>> + Send;

    /// Sets `tags` on `resource_id` (`CreateTags` overwrites existing values).
    fn create_tags(
        &self,
        resource_id: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

/// The SDK-backed EC2 client for one region.
#[derive(Debug, Clone)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
    region: String,
}

impl Ec2 {
    pub fn new(client: aws_sdk_ec2::Client, region: &str) -> Self {
        Ec2 {
            client,
            region: region.to_owned(),
        }
    }

    /// The underlying SDK client, for tests and seeding.
    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

impl Ec2Api for Ec2 {
    async fn describe_instances(&self, filters: &[Ec2Filter]) -> Result<Vec<Instance>, AwsError> {
        self.find_instances(filters)
            .await
            .map(|answer| answer.value)
    }

    async fn find_instances(
        &self,
        filters: &[Ec2Filter],
    ) -> Result<Answer<Vec<Instance>>, AwsError> {
        let filters = sdk_filters(filters);
        let mut pages = self
            .client
            .describe_instances()
            .set_filters((!filters.is_empty()).then_some(filters))
            .into_paginator()
            .send();
        let mut instances = Vec::new();
        let mut request_id = None;
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ec2", "DescribeInstances", &self.region, &e))?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            for reservation in page.reservations() {
                instances.extend(reservation.instances().iter().filter_map(to_instance));
            }
        }
        Ok(Answer {
            value: instances,
            request_id,
        })
    }

    async fn describe_instance(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Option<Instance>>, AwsError> {
        let result = self
            .client
            .describe_instances()
            .instance_ids(instance_id)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Answer {
                value: out
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .filter_map(to_instance)
                    .find(|i| i.id == instance_id),
                request_id: out.request_id().map(str::to_owned),
            }),
            Err(err) => {
                let error = AwsError::from_sdk("ec2", "DescribeInstances", &self.region, &err);
                if error.code.as_deref() == Some("InvalidInstanceID.NotFound") {
                    Ok(Answer {
                        value: None,
                        request_id: error.request_id,
                    })
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn create_tags(
        &self,
        resource_id: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let tags = tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        let result = self
            .client
            .create_tags()
            .resources(resource_id)
            .set_tags(Some(tags))
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("CreateTags", &self.region, result)
    }
}

fn to_instance(i: &SdkInstance) -> Option<Instance> {
    let id = i.instance_id()?.to_owned();
    let mut network_interfaces: Vec<NetworkInterface> = i
        .network_interfaces()
        .iter()
        .filter_map(|eni| {
            Some(NetworkInterface {
                id: eni.network_interface_id()?.to_owned(),
                device_index: eni
                    .attachment()
                    .and_then(|a| a.device_index())
                    .unwrap_or_default(),
                subnet_id: eni.subnet_id().map(str::to_owned),
                private_ip: eni.private_ip_address().map(str::to_owned),
                public_ip: eni
                    .association()
                    .and_then(|a| a.public_ip())
                    .map(str::to_owned),
                elastic_ip: eni
                    .association()
                    .and_then(|a| a.ip_owner_id())
                    .is_some_and(|owner| owner != "amazon"),
                groups: eni.groups().iter().filter_map(to_group).collect(),
            })
        })
        .collect();
    network_interfaces.sort_by_key(|eni| eni.device_index);
    let platform = match (i.platform(), i.platform_details()) {
        (Some(p), _) => p.as_str().to_owned(),
        (None, Some(details)) => details.to_owned(),
        (None, None) => "Linux/UNIX".to_owned(),
    };
    Some(Instance {
        id,
        state: i
            .state()
            .and_then(|s| s.name())
            .map_or_else(|| "unknown".to_owned(), |n| n.as_str().to_owned()),
        private_ip: i.private_ip_address().map(str::to_owned),
        availability_zone: i
            .placement()
            .and_then(|p| p.availability_zone())
            .map(str::to_owned),
        platform,
        architecture: i.architecture().map(|a| a.as_str().to_owned()),
        instance_type: i.instance_type().map(|t| t.as_str().to_owned()),
        vpc_id: i.vpc_id().map(str::to_owned),
        subnet_id: i.subnet_id().map(str::to_owned),
        instance_profile_arn: i
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_owned),
        security_groups: i.security_groups().iter().filter_map(to_group).collect(),
        network_interfaces,
        volumes: i
            .block_device_mappings()
            .iter()
            .filter_map(|m| {
                let ebs = m.ebs()?;
                Some(EbsVolume {
                    device: m.device_name()?.to_owned(),
                    volume_id: ebs.volume_id()?.to_owned(),
                    delete_on_termination: ebs.delete_on_termination().unwrap_or(false),
                })
            })
            .collect(),
        metadata: i.metadata_options().map(|m| MetadataOptions {
            http_tokens: m.http_tokens().map(|t| t.as_str().to_owned()),
            http_endpoint: m.http_endpoint().map(|e| e.as_str().to_owned()),
            hop_limit: m.http_put_response_hop_limit(),
        }),
        tags: i
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    })
}

pub(super) fn to_group(g: &aws_sdk_ec2::types::GroupIdentifier) -> Option<GroupRef> {
    Some(GroupRef {
        id: g.group_id()?.to_owned(),
        name: g.group_name().unwrap_or_default().to_owned(),
    })
}

/// EC2 describe filters in SDK form.
/// Tags to set on a resource as it is created.
pub(super) fn tag_spec(
    resource: aws_sdk_ec2::types::ResourceType,
    tags: &BTreeMap<String, String>,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

pub(super) fn sdk_filters(filters: &[Ec2Filter]) -> Vec<Filter> {
    filters
        .iter()
        .map(|f| {
            Filter::builder()
                .name(&f.name)
                .set_values(Some(f.values.clone()))
                .build()
        })
        .collect()
}
