//! Network ACLs on EC2: the `Ec2AclApi` trait for the subnet escalation — which ACL a subnet
//! uses, a new (deny-everything) ACL, swapping a subnet's association, and deleting the ACL.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{Filter, ResourceType};
use aws_types::request_id::RequestId;

use super::ec2::Ec2;
use super::ec2_contain::Created;
use super::{Answer, Applied, AwsError, ec2_mutation};

/// The network ACL a subnet is associated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetAcl {
    pub acl_id: String,
    /// The subnet's association with it (what `ReplaceNetworkAclAssociation` replaces).
    pub association_id: String,
    pub vpc_id: Option<String>,
    /// Whether it is the VPC's default ACL.
    pub is_default: bool,
    /// Its entries besides the `*` rule every ACL ends with (rule 32767).
    pub entries: usize,
    pub tags: BTreeMap<String, String>,
}

/// The network ACL calls on EC2.
pub trait Ec2AclApi: Send + Sync {
    /// `DescribeNetworkAcls` for the ACL `subnet_id` is associated with.
    fn subnet_acl(
        &self,
        subnet_id: &str,
    ) -> impl Future<Output = Result<Answer<Option<SubnetAcl>>, AwsError>> + Send;

    /// `CreateNetworkAcl` in `vpc_id`, tagged at creation; with no entries it denies every
    /// packet both ways (only the `*` rules).
    fn create_acl(
        &self,
        vpc_id: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> impl Future<Output = Result<Created, AwsError>> + Send;

    /// `ReplaceNetworkAclAssociation`: the subnet of `association_id` uses `acl_id` from now
    /// on; the new association's id.
    fn replace_association(
        &self,
        association_id: &str,
        acl_id: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<Created, AwsError>> + Send;

    fn delete_acl(
        &self,
        acl_id: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

impl Ec2AclApi for Ec2 {
    async fn subnet_acl(&self, subnet_id: &str) -> Result<Answer<Option<SubnetAcl>>, AwsError> {
        let out = self
            .client()
            .describe_network_acls()
            .filters(
                Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeNetworkAcls", self.region(), &e))?;
        let acl = out.network_acls().iter().find_map(|acl| {
            let association = acl
                .associations()
                .iter()
                .find(|a| a.subnet_id() == Some(subnet_id))?;
            Some(SubnetAcl {
                acl_id: acl.network_acl_id()?.to_owned(),
                association_id: association.network_acl_association_id()?.to_owned(),
                vpc_id: acl.vpc_id().map(str::to_owned),
                is_default: acl.is_default().unwrap_or(false),
                entries: acl
                    .entries()
                    .iter()
                    .filter(|e| e.rule_number() != Some(32767))
                    .count(),
                tags: acl
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect(),
            })
        });
        Ok(Answer {
            value: acl,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn create_acl(
        &self,
        vpc_id: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<Created, AwsError> {
        let tags = super::ec2::tag_spec(ResourceType::NetworkAcl, tags);
        let result = self
            .client()
            .create_network_acl()
            .vpc_id(vpc_id)
            .tag_specifications(tags)
            .dry_run(dry_run)
            .customize()
            .config_override(super::retry::ec2_once())
            .send()
            .await;
        let id = result
            .as_ref()
            .ok()
            .and_then(|o| o.network_acl()?.network_acl_id().map(str::to_owned));
        let applied = ec2_mutation("CreateNetworkAcl", self.region(), result)?;
        Ok(Created { applied, id })
    }

    async fn replace_association(
        &self,
        association_id: &str,
        acl_id: &str,
        dry_run: bool,
    ) -> Result<Created, AwsError> {
        let result = self
            .client()
            .replace_network_acl_association()
            .association_id(association_id)
            .network_acl_id(acl_id)
            .dry_run(dry_run)
            .send()
            .await;
        let id = result
            .as_ref()
            .ok()
            .and_then(|o| o.new_association_id().map(str::to_owned));
        let applied = ec2_mutation("ReplaceNetworkAclAssociation", self.region(), result)?;
        Ok(Created { applied, id })
    }

    async fn delete_acl(&self, acl_id: &str, dry_run: bool) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .delete_network_acl()
            .network_acl_id(acl_id)
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("DeleteNetworkAcl", self.region(), result)
    }
}
