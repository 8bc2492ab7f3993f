//! `Server`: one Security Server as breakglass sees it, joined from EC2, SSM, Auto Scaling
//! and ELB. This is also the stable JSON shape of `breakglass list --output json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aws::{GroupRef, NetworkInterface};

/// Tag holding the isolation state written by playbooks.
pub const STATE_TAG: &str = "breakglass:state";
/// Tag holding the incident id written by playbooks.
pub const INCIDENT_TAG: &str = "breakglass:incident";
/// Tag holding the run id of the last playbook run.
pub const RUN_TAG: &str = "breakglass:run";

/// One Security Server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub region: String,
    pub instance_id: String,
    pub name: Option<String>,
    pub state: String,
    pub private_ip: Option<String>,
    pub availability_zone: Option<String>,
    pub platform: String,
    pub vpc_id: Option<String>,
    pub auto_scaling_group: Option<AsgInfo>,
    pub target_groups: Vec<String>,
    pub security_groups: Vec<GroupRef>,
    pub network_interfaces: Vec<NetworkInterface>,
    /// Attached EBS volumes (device, id).
    pub volumes: Vec<crate::aws::EbsVolume>,
    pub ssm: SsmStatus,
    pub isolation: Isolation,
    pub incident: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Auto Scaling group membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsgInfo {
    pub name: String,
    pub lifecycle_state: String,
    pub protected_from_scale_in: bool,
}

/// The SSM agent's status; `ping_status` is `unknown` when it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsmStatus {
    /// `Online`, `ConnectionLost`, `Inactive`, `NotManaged` or `unknown`.
    pub ping_status: String,
    pub agent_version: Option<String>,
}

impl SsmStatus {
    pub fn unknown() -> Self {
        SsmStatus {
            ping_status: "unknown".into(),
            agent_version: None,
        }
    }
}

/// Isolation state, read from the `breakglass:state` tag. Serialized as a plain string:
/// `none`, `isolated`, `released`, or the tag's value as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// No breakglass state tag.
    None,
    Isolated,
    Released,
    /// A tag value breakglass did not write; shown as is.
    Other(String),
}

impl Isolation {
    pub fn from_tag(value: Option<&str>) -> Self {
        match value {
            None | Some("") => Isolation::None,
            Some("isolated") => Isolation::Isolated,
            Some("released") => Isolation::Released,
            Some(other) => Isolation::Other(other.to_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Isolation::None => "-",
            Isolation::Isolated => "isolated",
            Isolation::Released => "released",
            Isolation::Other(value) => value,
        }
    }
}

impl<'de> Deserialize<'de> for Isolation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(match value.as_str() {
            "none" => Isolation::None,
            other => Isolation::from_tag(Some(other)),
        })
    }
}

impl Serialize for Isolation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Isolation::None => serializer.serialize_str("none"),
            other => serializer.serialize_str(other.label()),
        }
    }
}
