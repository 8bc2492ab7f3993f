//! The pure join of EC2 instances with SSM, Auto Scaling and ELB data into `Server`s.

use std::collections::HashMap;

use super::server::{AsgInfo, INCIDENT_TAG, Isolation, STATE_TAG, Server, SsmStatus};
use crate::aws::{AsgMembership, GroupRef, Instance, ManagedInstance, TargetGroup};

/// What was read in one region, ready to be joined.
#[derive(Debug, Default)]
pub struct RegionData {
    pub region: String,
    pub instances: Vec<Instance>,
    /// `None` when the SSM inventory could not be read (then every status is `unknown`).
    pub managed: Option<Vec<ManagedInstance>>,
    pub asg: Vec<AsgMembership>,
    pub target_groups: Vec<TargetGroup>,
}

/// Joins one region's data; servers come out sorted by Name, then instance id.
pub fn join(data: RegionData) -> Vec<Server> {
    let managed: Option<HashMap<&str, &ManagedInstance>> = data
        .managed
        .as_ref()
        .map(|list| list.iter().map(|m| (m.instance_id.as_str(), m)).collect());
    let asg: HashMap<&str, &AsgMembership> = data
        .asg
        .iter()
        .map(|m| (m.instance_id.as_str(), m))
        .collect();
    let mut servers: Vec<Server> = data
        .instances
        .iter()
        .map(|i| {
            let ssm = match &managed {
                None => SsmStatus::unknown(),
                Some(map) => map.get(i.id.as_str()).map_or_else(
                    || SsmStatus {
                        ping_status: "NotManaged".into(),
                        agent_version: None,
                    },
                    |m| SsmStatus {
                        ping_status: m.ping_status.clone(),
                        agent_version: m.agent_version.clone(),
                    },
                ),
            };
            let mut target_groups: Vec<String> = data
                .target_groups
                .iter()
                .filter(|tg| tg.targets.iter().any(|t| t.id == i.id))
                .map(|tg| tg.name.clone())
                .collect();
            target_groups.sort();
            target_groups.dedup();
            Server {
                region: data.region.clone(),
                instance_id: i.id.clone(),
                name: i.tags.get("Name").cloned(),
                state: i.state.clone(),
                private_ip: i.private_ip.clone(),
                availability_zone: i.availability_zone.clone(),
                platform: i.platform.clone(),
                vpc_id: i.vpc_id.clone(),
                auto_scaling_group: asg.get(i.id.as_str()).map(|m| AsgInfo {
                    name: m.group_name.clone(),
                    lifecycle_state: m.lifecycle_state.clone(),
                    protected_from_scale_in: m.protected_from_scale_in,
                }),
                target_groups,
                security_groups: all_groups(i),
                network_interfaces: i.network_interfaces.clone(),
                volumes: i.volumes.clone(),
                ssm,
                isolation: Isolation::from_tag(i.tags.get(STATE_TAG).map(String::as_str)),
                incident: i.tags.get(INCIDENT_TAG).cloned(),
                tags: i.tags.clone(),
            }
        })
        .collect();
    servers.sort_by(|a, b| (&a.name, &a.instance_id).cmp(&(&b.name, &b.instance_id)));
    servers
}

/// Every group on the instance: per-ENI groups first (they are what isolation changes),
/// then instance-level ones, each once.
fn all_groups(instance: &Instance) -> Vec<GroupRef> {
    let mut groups: Vec<GroupRef> = Vec::new();
    let enis = instance.network_interfaces.iter().flat_map(|e| &e.groups);
    for group in enis.chain(&instance.security_groups) {
        if !groups.iter().any(|g| g.id == group.id) {
            groups.push(group.clone());
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::aws::Target;

    fn instance(id: &str, name: &str, tags: &[(&str, &str)]) -> Instance {
        let mut all: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert("Name".into(), name.into());
        Instance {
            id: id.into(),
            state: "running".into(),
            private_ip: Some("10.0.1.5".into()),
            availability_zone: Some("eu-west-1a".into()),
            platform: "Linux/UNIX".into(),
            architecture: Some("x86_64".into()),
            instance_type: Some("t3.medium".into()),
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-1".into()),
            instance_profile_arn: None,
            security_groups: vec![],
            network_interfaces: vec![],
            volumes: vec![],
            metadata: None,
            tags: all,
        }
    }

    fn data(managed: Option<Vec<ManagedInstance>>) -> RegionData {
        RegionData {
            region: "eu-west-1".into(),
            instances: vec![
                instance(
                    "i-2",
                    "ss-b",
                    &[(STATE_TAG, "isolated"), (INCIDENT_TAG, "IR-42")],
                ),
                instance("i-1", "ss-a", &[]),
                instance("i-3", "ss-c", &[(STATE_TAG, "quarantined-by-hand")]),
            ],
            managed,
            asg: vec![AsgMembership {
                instance_id: "i-1".into(),
                group_name: "ss-asg".into(),
                lifecycle_state: "InService".into(),
                protected_from_scale_in: false,
            }],
            target_groups: vec![TargetGroup {
                arn: "arn:tg".into(),
                name: "ss-4000".into(),
                vpc_id: Some("vpc-1".into()),
                targets: vec![Target {
                    id: "i-1".into(),
                    port: Some(4000),
                    state: "healthy".into(),
                }],
            }],
        }
    }

    #[test]
    fn joins_all_sources_and_sorts_by_name() {
        let servers = join(data(Some(vec![ManagedInstance {
            instance_id: "i-1".into(),
            ping_status: "Online".into(),
            agent_version: Some("3.3.0".into()),
            platform_name: None,
            platform_type: Some("Linux".into()),
        }])));
        let ids: Vec<&str> = servers.iter().map(|s| s.instance_id.as_str()).collect();
        assert_eq!(ids, ["i-1", "i-2", "i-3"]);
        let a = &servers[0];
        assert_eq!(a.ssm.ping_status, "Online");
        assert_eq!(a.ssm.agent_version.as_deref(), Some("3.3.0"));
        assert_eq!(a.auto_scaling_group.as_ref().unwrap().name, "ss-asg");
        assert_eq!(a.target_groups, ["ss-4000"]);
        assert_eq!(a.isolation, Isolation::None);
        let b = &servers[1];
        assert_eq!(b.ssm.ping_status, "NotManaged");
        assert_eq!(b.isolation, Isolation::Isolated);
        assert_eq!(b.incident.as_deref(), Some("IR-42"));
        assert!(b.auto_scaling_group.is_none() && b.target_groups.is_empty());
        assert_eq!(servers[2].isolation.label(), "quarantined-by-hand");
    }

    #[test]
    fn unreadable_ssm_inventory_means_unknown_not_unmanaged() {
        let servers = join(data(None));
        assert!(servers.iter().all(|s| s.ssm.ping_status == "unknown"));
    }

    #[test]
    fn groups_are_the_union_of_eni_and_instance_groups() {
        let group = |id: &str| GroupRef {
            id: id.into(),
            name: format!("{id}-name"),
        };
        let eni = |id: &str, groups: Vec<GroupRef>| crate::aws::NetworkInterface {
            id: id.into(),
            device_index: 0,
            subnet_id: None,
            private_ip: None,
            public_ip: None,
            elastic_ip: false,
            groups,
        };
        let mut i = instance("i-1", "ss", &[]);
        i.network_interfaces = vec![
            eni("eni-1", vec![group("sg-a"), group("sg-b")]),
            eni("eni-2", vec![group("sg-b"), group("sg-c")]),
        ];
        i.security_groups = vec![group("sg-a"), group("sg-d")];
        let ids: Vec<String> = all_groups(&i).into_iter().map(|g| g.id).collect();
        assert_eq!(ids, ["sg-a", "sg-b", "sg-c", "sg-d"]);
    }
}
