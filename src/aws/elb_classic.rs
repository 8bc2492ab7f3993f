//! Classic Load Balancers (Elastic Load Balancing, API version 2012-06-01): the
//! `ClassicElbApi` trait and its SDK implementation. Instances are registered with a load
//! balancer itself, not with a target group.

use std::future::Future;

use aws_types::request_id::RequestId;

use super::{Answer, Applied, AwsError};

/// The Classic Load Balancer calls breakglass makes.
pub trait ClassicElbApi: Send + Sync {
    /// `DescribeLoadBalancers` (every page): the names of the load balancers `instance_id`
    /// is registered with.
    fn load_balancers_of(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<String>>, AwsError>> + Send;

    fn deregister_instance(
        &self,
        load_balancer: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn register_instance(
        &self,
        load_balancer: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

/// The SDK-backed Classic Load Balancer client for one region.
#[derive(Debug, Clone)]
pub struct ClassicElb {
    client: aws_sdk_elasticloadbalancing::Client,
    region: String,
}

impl ClassicElb {
    pub fn new(client: aws_sdk_elasticloadbalancing::Client, region: &str) -> Self {
        ClassicElb {
            client,
            region: region.to_owned(),
        }
    }

    /// The underlying SDK client, for tests and seeding.
    pub fn client(&self) -> &aws_sdk_elasticloadbalancing::Client {
        &self.client
    }
}

fn instance(id: &str) -> aws_sdk_elasticloadbalancing::types::Instance {
    aws_sdk_elasticloadbalancing::types::Instance::builder()
        .instance_id(id)
        .build()
}

impl ClassicElbApi for ClassicElb {
    async fn load_balancers_of(&self, instance_id: &str) -> Result<Answer<Vec<String>>, AwsError> {
        let mut names = Vec::new();
        let mut request_id = None;
        let mut pages = self
            .client
            .describe_load_balancers()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("elb", "DescribeLoadBalancers", &self.region, &e)
            })?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            for lb in page.load_balancer_descriptions() {
                let serves = lb
                    .instances()
                    .iter()
                    .any(|i| i.instance_id() == Some(instance_id));
                if let (true, Some(name)) = (serves, lb.load_balancer_name()) {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(Answer {
            value: names,
            request_id,
        })
    }

    async fn deregister_instance(
        &self,
        load_balancer: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .deregister_instances_from_load_balancer()
            .load_balancer_name(load_balancer)
            .instances(instance(instance_id))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "elb",
                    "DeregisterInstancesFromLoadBalancer",
                    &self.region,
                    &e,
                )
            })?;
        Ok(Applied::done(out.request_id()))
    }

    async fn register_instance(
        &self,
        load_balancer: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .register_instances_with_load_balancer()
            .load_balancer_name(load_balancer)
            .instances(instance(instance_id))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("elb", "RegisterInstancesWithLoadBalancer", &self.region, &e)
            })?;
        Ok(Applied::done(out.request_id()))
    }
}
