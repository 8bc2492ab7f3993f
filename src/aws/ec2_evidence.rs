//! EC2 calls for evidence: crash-consistent multi-volume snapshots, their copies under a
//! forensic KMS key and sharing, and whether an instance type has instance-store volumes.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{
    InstanceSpecification, OperationType, ResourceType, SnapshotAttributeName,
};
use aws_types::request_id::RequestId;
use serde::Serialize;

use super::ec2::tag_spec;
use super::{Answer, Applied, AwsError, Change, Ec2, Ec2Filter, ec2_mutation};

/// An EBS snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub volume_id: Option<String>,
    /// `pending`, `completed`, `error`, `recoverable`, `recovering`.
    pub state: String,
    /// `"100%"` style, as EC2 reports it.
    pub progress: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Snapshots just requested: the call's result and what was created (none in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotsCreated {
    pub applied: Applied,
    pub snapshots: Vec<Snapshot>,
}

impl Change for SnapshotsCreated {
    fn applied(&self) -> &Applied {
        &self.applied
    }
}

/// The evidence calls on EC2.
pub trait Ec2EvidenceApi: Send + Sync {
    /// `CreateSnapshots` of every EBS volume of the instance, crash-consistent, tagged.
    fn create_snapshots(
        &self,
        instance_id: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> impl Future<Output = Result<SnapshotsCreated, AwsError>> + Send;

    /// `DescribeSnapshots` owned by this account, matching every filter.
    fn describe_snapshots(
        &self,
        filters: &[Ec2Filter],
    ) -> impl Future<Output = Result<Answer<Vec<Snapshot>>, AwsError>> + Send;

    /// `CopySnapshot` into this client's region, encrypted with `kms_key_id`.
    fn copy_snapshot(
        &self,
        source_region: &str,
        source_snapshot_id: &str,
        kms_key_id: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> impl Future<Output = Result<super::Created, AwsError>> + Send;

    /// `ModifySnapshotAttribute`: lets `account_id` create volumes from the snapshot.
    fn share_snapshot(
        &self,
        snapshot_id: &str,
        account_id: &str,
        dry_run: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `DescribeInstanceTypes`: whether the type has instance-store volumes.
    fn has_instance_store(
        &self,
        instance_type: &str,
    ) -> impl Future<Output = Result<Answer<bool>, AwsError>> + Send;
}

fn to_snapshot(s: &aws_sdk_ec2::types::Snapshot) -> Option<Snapshot> {
    Some(Snapshot {
        id: s.snapshot_id()?.to_owned(),
        volume_id: s.volume_id().map(str::to_owned),
        state: s
            .state()
            .map_or_else(|| "unknown".to_owned(), |st| st.as_str().to_owned()),
        progress: s.progress().map(str::to_owned),
        encrypted: s.encrypted().unwrap_or(false),
        kms_key_id: s.kms_key_id().map(str::to_owned),
        tags: s
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

impl Ec2EvidenceApi for Ec2 {
    async fn create_snapshots(
        &self,
        instance_id: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<SnapshotsCreated, AwsError> {
        let result = self
            .client()
            .create_snapshots()
            .instance_specification(
                InstanceSpecification::builder()
                    .instance_id(instance_id)
                    .exclude_boot_volume(false)
                    .build(),
            )
            .description(description)
            .set_tag_specifications(
                (!tags.is_empty()).then(|| vec![tag_spec(ResourceType::Snapshot, tags)]),
            )
            .dry_run(dry_run)
            .customize()
            .config_override(super::retry::ec2_once())
            .send()
            .await;
        let snapshots = result
            .as_ref()
            .map(|out| {
                out.snapshots()
                    .iter()
                    .filter_map(|s| {
                        Some(Snapshot {
                            id: s.snapshot_id()?.to_owned(),
                            volume_id: s.volume_id().map(str::to_owned),
                            state: s
                                .state()
                                .map_or_else(|| "pending".to_owned(), |st| st.as_str().to_owned()),
                            progress: s.progress().map(str::to_owned),
                            encrypted: s.encrypted().unwrap_or(false),
                            kms_key_id: None,
                            tags: BTreeMap::new(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let applied = ec2_mutation("CreateSnapshots", self.region(), result)?;
        Ok(SnapshotsCreated { applied, snapshots })
    }

    async fn describe_snapshots(
        &self,
        filters: &[Ec2Filter],
    ) -> Result<Answer<Vec<Snapshot>>, AwsError> {
        let mut pages = self
            .client()
            .describe_snapshots()
            .owner_ids("self")
            .set_filters(Some(super::ec2::sdk_filters(filters)))
            .into_paginator()
            .send();
        let mut snapshots = Vec::new();
        let mut request_id = None;
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| AwsError::from_sdk("ec2", "DescribeSnapshots", self.region(), &e))?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            snapshots.extend(page.snapshots().iter().filter_map(to_snapshot));
        }
        Ok(Answer {
            value: snapshots,
            request_id,
        })
    }

    async fn copy_snapshot(
        &self,
        source_region: &str,
        source_snapshot_id: &str,
        kms_key_id: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<super::Created, AwsError> {
        let result = self
            .client()
            .copy_snapshot()
            .source_region(source_region)
            .source_snapshot_id(source_snapshot_id)
            .encrypted(true)
            .kms_key_id(kms_key_id)
            .description(description)
            .set_tag_specifications(
                (!tags.is_empty()).then(|| vec![tag_spec(ResourceType::Snapshot, tags)]),
            )
            .dry_run(dry_run)
            .customize()
            .config_override(super::retry::ec2_once())
            .send()
            .await;
        let id = result
            .as_ref()
            .ok()
            .and_then(|o| o.snapshot_id().map(str::to_owned));
        let applied = ec2_mutation("CopySnapshot", self.region(), result)?;
        Ok(super::Created { applied, id })
    }

    async fn share_snapshot(
        &self,
        snapshot_id: &str,
        account_id: &str,
        dry_run: bool,
    ) -> Result<Applied, AwsError> {
        let result = self
            .client()
            .modify_snapshot_attribute()
            .snapshot_id(snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Add)
            .user_ids(account_id)
            .dry_run(dry_run)
            .send()
            .await;
        ec2_mutation("ModifySnapshotAttribute", self.region(), result)
    }

    async fn has_instance_store(&self, instance_type: &str) -> Result<Answer<bool>, AwsError> {
        let out = self
            .client()
            .describe_instance_types()
            .instance_types(instance_type.into())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2", "DescribeInstanceTypes", self.region(), &e))?;
        Ok(Answer {
            value: out
                .instance_types()
                .iter()
                .any(|t| t.instance_storage_supported().unwrap_or(false)),
            request_id: out.request_id().map(str::to_owned),
        })
    }
}
