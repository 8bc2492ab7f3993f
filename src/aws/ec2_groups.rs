//! EC2 security groups for containment: find, create (tagged at creation), and change the
//! rules of the groups breakglass owns. One method per AWS call; mutations take `dry_run`.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType, UserIdGroupPair};
use aws_types::request_id::RequestId;
use serde::{Deserialize, Serialize};

use super::ec2::sdk_filters;
use super::{Answer, Applied, AwsError, Created, Ec2, Ec2Filter, ec2_mutation};

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

/// The security group calls on EC2.
pub trait Ec2GroupsApi: Send + Sync {
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
}

impl Ec2GroupsApi for Ec2 {
    async fn describe_security_groups(
        &self,
        filter: &[Ec2Filter],
    ) -> Result<Answer<Vec<SecurityGroup>>, AwsError> {
        let out = self
            .client()
            .describe_security_groups()
            .set_filters(Some(sdk_filters(filter)))
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
        let tags = super::ec2::tag_spec(ResourceType::SecurityGroup, tags);
        let result = self
            .client()
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .tag_specifications(tags)
            .dry_run(dry_run)
            .customize()
            .config_override(super::retry::ec2_once())
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
            .customize()
            .config_override(super::retry::ec2_once())
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
            .customize()
            .config_override(super::retry::ec2_once())
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
            .customize()
            .config_override(super::retry::ec2_once())
            .send()
            .await;
        ec2_mutation("RevokeSecurityGroupEgress", self.region(), result)
    }
}
