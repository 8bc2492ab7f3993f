//! Seeds an emulated account with an X-Road-like estate for game days and tests.
//!
//! This is emulator set-up, not incident response, so it talks to the SDK clients directly
//! rather than through the narrow service traits the playbooks use.

use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_ec2::types::{
    InstanceNetworkInterfaceSpecification, RequestLaunchTemplateData, ResourceType, Tag,
    TagSpecification,
};
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetDescription};

use crate::aws::{AwsContext, AwsError};

/// Maps an SDK error of `service:operation` in this seeder's region.
macro_rules! sdk_err {
    ($seeder:expr, $service:literal, $operation:literal) => {
        |e| AwsError::from_sdk($service, $operation, &$seeder.region, &e)
    };
}

/// A VPC with one subnet per availability zone and a security group for the servers.
#[derive(Debug, Clone)]
pub struct Network {
    pub vpc_id: String,
    /// `(availability zone, subnet id)`, one per zone.
    pub subnets: Vec<(String, String)>,
    pub security_group_id: String,
}

/// What to launch.
#[derive(Debug, Clone)]
pub struct InstanceSpec<'a> {
    pub name: &'a str,
    pub subnet_id: &'a str,
    pub security_group_id: &'a str,
    /// Tags besides `Name`.
    pub tags: &'a [(&'a str, &'a str)],
    /// Network interfaces (at least 1), all in the subnet with the group.
    pub interfaces: i32,
}

/// The seeded game-day estate.
#[derive(Debug, Clone)]
pub struct Estate {
    pub region: String,
    pub network: Network,
    /// `(Name, instance id)` of every Security Server.
    pub servers: Vec<(String, String)>,
    pub auto_scaling_group: String,
    pub target_group_arn: String,
}

impl Estate {
    /// The servers' SSM agents as the simulator plays them: every one online but
    /// `ss-test-3`'s, so drills meet an unreachable agent too.
    pub fn agents(&self) -> Vec<crate::sandbox::ManagedInstance> {
        self.servers
            .iter()
            .map(|(name, id)| crate::sandbox::ManagedInstance {
                ping_status: if name == "ss-test-3" {
                    "ConnectionLost"
                } else {
                    "Online"
                }
                .into(),
                ..crate::sandbox::ManagedInstance::new(id.clone())
            })
            .collect()
    }
}

/// Seeding helpers bound to one region of the emulated account.
#[derive(Debug, Clone)]
pub struct Seeder {
    region: String,
    ec2: aws_sdk_ec2::Client,
    asg: aws_sdk_autoscaling::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

impl Seeder {
    pub fn new(ctx: &AwsContext, region: &str) -> Seeder {
        Seeder {
            region: region.to_owned(),
            ec2: ctx.ec2(region).client().clone(),
            asg: ctx.autoscaling(region).client().clone(),
            elb: ctx.elbv2(region).client().clone(),
        }
    }

    /// A VPC `cidr` (a /16) with a /20 subnet in each of `zones` (suffixes like `a`, `b`).
    pub async fn network(&self, cidr: &str, zones: &[&str]) -> Result<Network, AwsError> {
        let vpc = self
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .send()
            .await
            .map_err(sdk_err!(self, "ec2", "CreateVpc"))?;
        let vpc_id = vpc
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap_or_default()
            .to_owned();
        let prefix: String = cidr.split('.').take(2).collect::<Vec<_>>().join(".");
        let mut subnets = Vec::new();
        for (n, zone) in zones.iter().enumerate() {
            let az = format!("{}{zone}", self.region);
            let subnet = self
                .ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .availability_zone(&az)
                .cidr_block(format!("{prefix}.{}.0/20", n * 16))
                .send()
                .await
                .map_err(sdk_err!(self, "ec2", "CreateSubnet"))?;
            let id = subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .unwrap_or_default()
                .to_owned();
            subnets.push((az, id));
        }
        let group = self
            .ec2
            .create_security_group()
            .vpc_id(&vpc_id)
            .group_name("xroad-security-server")
            .description("X-Road Security Server")
            .send()
            .await
            .map_err(sdk_err!(self, "ec2", "CreateSecurityGroup"))?;
        Ok(Network {
            vpc_id,
            subnets,
            security_group_id: group.group_id().unwrap_or_default().to_owned(),
        })
    }

    /// Launches one instance with explicit network interfaces; returns its id.
    pub async fn launch(&self, spec: &InstanceSpec<'_>) -> Result<String, AwsError> {
        let mut tags = TagSpecification::builder()
            .resource_type(ResourceType::Instance)
            .tags(Tag::builder().key("Name").value(spec.name).build());
        for (key, value) in spec.tags {
            tags = tags.tags(Tag::builder().key(*key).value(*value).build());
        }
        let interfaces = (0..spec.interfaces.max(1))
            .map(|index| {
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(index)
                    .subnet_id(spec.subnet_id)
                    .groups(spec.security_group_id)
                    .build()
            })
            .collect();
        let out = self
            .ec2
            .run_instances()
            .image_id("ami-12345678")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Medium)
            .min_count(1)
            .max_count(1)
            .set_network_interfaces(Some(interfaces))
            .tag_specifications(tags.build())
            .send()
            .await
            .map_err(sdk_err!(self, "ec2", "RunInstances"))?;
        Ok(out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .unwrap_or_default()
            .to_owned())
    }

    /// An Auto Scaling group over `subnets` with `instance_ids` attached to it.
    pub async fn auto_scaling_group(
        &self,
        name: &str,
        subnets: &[String],
        instance_ids: &[String],
    ) -> Result<(), AwsError> {
        let template = format!("{name}-template");
        self.ec2
            .create_launch_template()
            .launch_template_name(&template)
            .launch_template_data(
                RequestLaunchTemplateData::builder()
                    .image_id("ami-12345678")
                    .instance_type(aws_sdk_ec2::types::InstanceType::T3Medium)
                    .build(),
            )
            .send()
            .await
            .map_err(sdk_err!(self, "ec2", "CreateLaunchTemplate"))?;
        self.asg
            .create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_name(&template)
                    .build(),
            )
            .min_size(0)
            .max_size(instance_ids.len() as i32 + 2)
            .desired_capacity(0)
            .vpc_zone_identifier(subnets.join(","))
            .send()
            .await
            .map_err(sdk_err!(self, "autoscaling", "CreateAutoScalingGroup"))?;
        self.asg
            .attach_instances()
            .auto_scaling_group_name(name)
            .set_instance_ids(Some(instance_ids.to_vec()))
            .send()
            .await
            .map_err(sdk_err!(self, "autoscaling", "AttachInstances"))?;
        Ok(())
    }

    /// An HTTPS target group on `port` with `instance_ids` registered; returns its ARN.
    pub async fn target_group(
        &self,
        name: &str,
        vpc_id: &str,
        port: i32,
        instance_ids: &[String],
    ) -> Result<String, AwsError> {
        let out = self
            .elb
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::Https)
            .port(port)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err!(self, "elbv2", "CreateTargetGroup"))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|tg| tg.target_group_arn())
            .unwrap_or_default()
            .to_owned();
        let targets = instance_ids
            .iter()
            .map(|id| TargetDescription::builder().id(id).port(port).build())
            .collect();
        self.elb
            .register_targets()
            .target_group_arn(&arn)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(sdk_err!(self, "elbv2", "RegisterTargets"))?;
        Ok(arn)
    }

    /// The game-day estate: six Security Servers in two environments across two zones,
    /// the production ones in an Auto Scaling group behind a target group (port 4000 is
    /// unusual for a balancer but keeps the admin UI in view), one with two interfaces,
    /// plus one unrelated instance that discovery must skip.
    pub async fn xroad_estate(&self) -> Result<Estate, AwsError> {
        let network = self.network("10.20.0.0/16", &["a", "b"]).await?;
        let sg = network.security_group_id.clone();
        let role = ("Role", "xroad-security-server");
        let layout: [(&str, &str, usize, i32); 6] = [
            ("ss-prod-1", "prod", 0, 1),
            ("ss-prod-2", "prod", 1, 1),
            ("ss-prod-3", "prod", 0, 2),
            ("ss-test-1", "test", 0, 1),
            ("ss-test-2", "test", 1, 1),
            ("ss-test-3", "test", 1, 1),
        ];
        let mut servers = Vec::new();
        for (name, env, zone, interfaces) in layout {
            let id = self
                .launch(&InstanceSpec {
                    name,
                    subnet_id: &network.subnets[zone].1,
                    security_group_id: &sg,
                    tags: &[role, ("Environment", env), ("xroad:instance", "EE-DEV")],
                    interfaces,
                })
                .await?;
            servers.push((name.to_owned(), id));
        }
        self.launch(&InstanceSpec {
            name: "build-runner",
            subnet_id: &network.subnets[0].1,
            security_group_id: &sg,
            tags: &[("Role", "ci")],
            interfaces: 1,
        })
        .await?;
        let prod: Vec<String> = servers
            .iter()
            .filter(|(name, _)| name.starts_with("ss-prod"))
            .map(|(_, id)| id.clone())
            .collect();
        let subnets: Vec<String> = network.subnets.iter().map(|(_, id)| id.clone()).collect();
        let asg_name = "xroad-ss-prod".to_owned();
        self.auto_scaling_group(&asg_name, &subnets, &prod).await?;
        let tg = self
            .target_group("xroad-ss-prod-5500", &network.vpc_id, 5500, &prod)
            .await?;
        Ok(Estate {
            region: self.region.clone(),
            network,
            servers,
            auto_scaling_group: asg_name,
            target_group_arn: tg,
        })
    }
}
