//! Unit tests of the playbook engine's pure parts: loading, parameters, planning, policy,
//! step-order rules and reading runs back for resume.

mod load;
mod plan;

use std::collections::BTreeMap;

use crate::inventory::{Isolation, Server, SsmStatus};

/// A Security Server as discovery would report it.
pub(crate) fn server(id: &str, name: &str, extra_tags: &[(&str, &str)]) -> Server {
    let mut tags: BTreeMap<String, String> = BTreeMap::from([
        ("Name".to_owned(), name.to_owned()),
        ("Role".to_owned(), "xroad-security-server".to_owned()),
    ]);
    for (k, v) in extra_tags {
        tags.insert((*k).to_owned(), (*v).to_owned());
    }
    Server {
        region: "eu-west-1".into(),
        instance_id: id.into(),
        name: Some(name.into()),
        state: "running".into(),
        private_ip: Some("10.20.0.4".into()),
        availability_zone: Some("eu-west-1a".into()),
        platform: "Linux/UNIX".into(),
        vpc_id: Some("vpc-0123456789abcdef0".into()),
        auto_scaling_group: None,
        target_groups: Vec::new(),
        security_groups: Vec::new(),
        network_interfaces: Vec::new(),
        volumes: Vec::new(),
        ssm: SsmStatus::unknown(),
        isolation: Isolation::None,
        incident: None,
        tags,
    }
}
