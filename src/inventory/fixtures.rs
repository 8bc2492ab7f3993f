//! Test fixtures of inventory types, for the unit tests of every layer that works on servers.

use std::collections::BTreeMap;

use super::{Inventory, Isolation, Server, SsmStatus};

/// A Security Server as discovery would report it.
pub fn server(id: &str, name: &str, extra_tags: &[(&str, &str)]) -> Server {
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

/// Six servers like the sandbox's, one isolated, one with its agent offline.
pub fn estate() -> Inventory {
    let mut servers = vec![
        server(
            "i-0aaaaaaaaaaaaaaa1",
            "ss-prod-1",
            &[("Environment", "prod")],
        ),
        server(
            "i-0aaaaaaaaaaaaaaa2",
            "ss-prod-2",
            &[("Environment", "prod")],
        ),
        server(
            "i-0aaaaaaaaaaaaaaa3",
            "ss-prod-3",
            &[("Environment", "prod")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb1",
            "ss-test-1",
            &[("Environment", "test")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb2",
            "ss-test-2",
            &[("Environment", "test")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb3",
            "ss-test-3",
            &[("Environment", "test")],
        ),
    ];
    for s in &mut servers {
        s.ssm = SsmStatus {
            ping_status: "Online".into(),
            ..SsmStatus::unknown()
        };
    }
    servers[1].isolation = Isolation::Isolated;
    servers[1].incident = Some("IR-7".into());
    servers[5].ssm.ping_status = "ConnectionLost".into();
    Inventory {
        version: 1,
        account: "123456789012".into(),
        caller_arn: "arn:aws:sts::123456789012:assumed-role/IncidentResponder/alice".into(),
        regions: vec!["eu-west-1".into()],
        selection: "tag:Role=xroad-security-server".into(),
        servers,
        warnings: Vec::new(),
    }
}
