//! Elastic Load Balancing v2: the `Elbv2Api` trait and its SDK implementation.

use std::future::Future;

use aws_types::request_id::RequestId;
use serde::{Deserialize, Serialize};

use super::{Answer, Applied, AwsError};

/// A target group of instance targets, without its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroupInfo {
    pub arn: String,
    pub name: String,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`; the last five mean a
    /// Network or Gateway Load Balancer.
    pub protocol: Option<String>,
    pub port: Option<i32>,
}

/// A target group and the instance targets registered in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub targets: Vec<Target>,
}

/// One registered target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub port: Option<i32>,
    /// `healthy`, `draining`, `unused`, …
    pub state: String,
}

/// The ELBv2 calls breakglass makes.
pub trait Elbv2Api: Send + Sync {
    /// Every instance-type target group in the given VPCs, with its registered targets.
    fn describe_instance_target_groups(
        &self,
        vpc_ids: &[String],
    ) -> impl Future<Output = Result<Vec<TargetGroup>, AwsError>> + Send;

    /// `DescribeTargetGroups`: the instance-type target groups of one VPC.
    fn describe_vpc_target_groups(
        &self,
        vpc_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<TargetGroupInfo>>, AwsError>> + Send;

    /// `DescribeTargetHealth`: the registrations of one instance in one group.
    fn describe_instance_health(
        &self,
        target_group_arn: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<Target>>, AwsError>> + Send;

    fn deregister_target(
        &self,
        target_group_arn: &str,
        instance_id: &str,
        port: Option<i32>,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn register_target(
        &self,
        target_group_arn: &str,
        instance_id: &str,
        port: Option<i32>,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

/// The SDK-backed ELBv2 client for one region.
#[derive(Debug, Clone)]
pub struct Elbv2 {
    client: aws_sdk_elasticloadbalancingv2::Client,
    region: String,
}

impl Elbv2 {
    pub fn new(client: aws_sdk_elasticloadbalancingv2::Client, region: &str) -> Self {
        Elbv2 {
            client,
            region: region.to_owned(),
        }
    }

    /// The underlying SDK client, for tests and seeding.
    pub fn client(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        &self.client
    }
}

impl Elbv2Api for Elbv2 {
    async fn describe_instance_target_groups(
        &self,
        vpc_ids: &[String],
    ) -> Result<Vec<TargetGroup>, AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum;
        let mut groups = Vec::new();
        let mut pages = self.client.describe_target_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("elbv2", "DescribeTargetGroups", &self.region, &e)
            })?;
            for tg in page.target_groups() {
                let in_scope = tg.vpc_id().is_some_and(|v| vpc_ids.iter().any(|w| w == v));
                let instance_type =
                    matches!(tg.target_type(), None | Some(TargetTypeEnum::Instance));
                if let (Some(arn), true, true) = (tg.target_group_arn(), in_scope, instance_type) {
                    groups.push(TargetGroup {
                        arn: arn.to_owned(),
                        name: tg.target_group_name().unwrap_or(arn).to_owned(),
                        vpc_id: tg.vpc_id().map(str::to_owned),
                        targets: Vec::new(),
                    });
                }
            }
        }
        for group in &mut groups {
            let health = self
                .client
                .describe_target_health()
                .target_group_arn(&group.arn)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("elbv2", "DescribeTargetHealth", &self.region, &e)
                })?;
            group.targets = health
                .target_health_descriptions()
                .iter()
                .filter_map(|d| {
                    let target = d.target()?;
                    Some(Target {
                        id: target.id()?.to_owned(),
                        port: target.port(),
                        state: d
                            .target_health()
                            .and_then(|h| h.state())
                            .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
                    })
                })
                .collect();
        }
        Ok(groups)
    }

    async fn describe_vpc_target_groups(
        &self,
        vpc_id: &str,
    ) -> Result<Answer<Vec<TargetGroupInfo>>, AwsError> {
        use aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum;
        let mut groups = Vec::new();
        let mut request_id = None;
        let mut pages = self.client.describe_target_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("elbv2", "DescribeTargetGroups", &self.region, &e)
            })?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            for tg in page.target_groups() {
                let instance_type =
                    matches!(tg.target_type(), None | Some(TargetTypeEnum::Instance));
                if let (Some(arn), true, true) = (
                    tg.target_group_arn(),
                    tg.vpc_id() == Some(vpc_id),
                    instance_type,
                ) {
                    groups.push(TargetGroupInfo {
                        arn: arn.to_owned(),
                        name: tg.target_group_name().unwrap_or(arn).to_owned(),
                        protocol: tg.protocol().map(|p| p.as_str().to_owned()),
                        port: tg.port(),
                    });
                }
            }
        }
        Ok(Answer {
            value: groups,
            request_id,
        })
    }

    async fn describe_instance_health(
        &self,
        target_group_arn: &str,
        instance_id: &str,
    ) -> Result<Answer<Vec<Target>>, AwsError> {
        // Without `Targets`, the call lists every registered target; the instance's
        // registrations (one per port) are picked from those.
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2", "DescribeTargetHealth", &self.region, &e))?;
        let targets = out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| {
                let target = d.target()?;
                (target.id()? == instance_id).then(|| Target {
                    id: instance_id.to_owned(),
                    port: target.port(),
                    state: d
                        .target_health()
                        .and_then(|h| h.state())
                        .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned()),
                })
            })
            .collect();
        Ok(Answer {
            value: targets,
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn deregister_target(
        &self,
        target_group_arn: &str,
        instance_id: &str,
        port: Option<i32>,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .deregister_targets()
            .target_group_arn(target_group_arn)
            .targets(target(instance_id, port))
            // A second one, after the first's answer was lost, is refused where the target
            // is already gone (the emulator; the step's own read of the registrations
            // decides instead, on AWS too).
            .customize()
            .config_override(super::retry::elbv2_once())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2", "DeregisterTargets", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn register_target(
        &self,
        target_group_arn: &str,
        instance_id: &str,
        port: Option<i32>,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .register_targets()
            .target_group_arn(target_group_arn)
            .targets(target(instance_id, port))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elbv2", "RegisterTargets", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }
}

fn target(
    instance_id: &str,
    port: Option<i32>,
) -> aws_sdk_elasticloadbalancingv2::types::TargetDescription {
    aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
        .id(instance_id)
        .set_port(port)
        .build()
}
