//! The simulator's ledger: every AWS request it received, in order — its operation, the
//! resources it names, the fault applied to it, and how far it got (held before the call,
//! made, answered, refused by a fault, or cut after the call was made). Tests count side
//! effects here and in the emulator's state, where they happened, never in breakglass's own
//! audit log alone; a test that kills breakglass "after the call was made" waits for the
//! ledger to say so.

use serde::{Deserialize, Serialize};

/// How far a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Received and held (a latency fault): the call is not made yet.
    Held,
    /// The call is being made: forwarded to the emulator, or answered by the simulator.
    Made,
    /// The call was made and answered with this HTTP status (its answer may still be held
    /// back from the client by a slow-answer fault).
    Answered,
    /// A fault refused it with an error: the call was never made.
    Refused,
    /// The call was made, then the connection was reset before the answer.
    Cut,
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its place in the order of arrival, from 1.
    pub seq: u64,
    /// `service:Operation`, as fault rules name it (`ec2:ModifyNetworkInterfaceAttribute`).
    pub operation: String,
    /// The resources the request names, `Param=value` (`InstanceId=i-…`,
    /// `NetworkInterfaceId=eni-…`, `RoleName=…`, `Key=…`), in the order they appear.
    pub resources: Vec<String>,
    /// The fault kinds applied to it (`throttle`, `latency`, `reset`, …).
    pub faults: Vec<String>,
    pub progress: Progress,
    /// The HTTP status of the answer (or of the fault's error).
    pub status: Option<u16>,
    /// The object version an S3 `PutObject` created (`x-amz-version-id`).
    pub version: Option<String>,
}

impl Entry {
    /// Whether the call reached what answers it (the emulator or the simulator's own
    /// services): a change it asks for may have been made.
    pub fn made(&self) -> bool {
        matches!(
            self.progress,
            Progress::Made | Progress::Answered | Progress::Cut
        )
    }

    /// Whether it was answered with a success status.
    pub fn succeeded(&self) -> bool {
        self.progress == Progress::Answered && self.status.is_some_and(|s| s < 300)
    }
}

/// The requests received, oldest first; the oldest go beyond [`Ledger::KEPT`] (a long
/// drill must not grow the simulator without bound).
#[derive(Debug, Default)]
pub struct Ledger {
    entries: std::collections::VecDeque<Entry>,
    next: u64,
}

impl Ledger {
    /// How many entries are kept.
    pub const KEPT: usize = 100_000;

    /// Writes a request as it arrives (`held`: a latency fault holds it before the call);
    /// returns its `seq`.
    pub fn push(
        &mut self,
        operation: String,
        resources: Vec<String>,
        faults: &[&str],
        held: bool,
    ) -> u64 {
        self.next += 1;
        if self.entries.len() == Self::KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq: self.next,
            operation,
            resources,
            faults: faults.iter().map(|f| (*f).to_owned()).collect(),
            progress: if held { Progress::Held } else { Progress::Made },
            status: None,
            version: None,
        });
        self.next
    }

    /// Moves entry `seq` on (a status or version already set stays when `None` is given).
    pub fn update(
        &mut self,
        seq: u64,
        progress: Progress,
        status: Option<u16>,
        version: Option<String>,
    ) {
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| e.seq == seq) {
            entry.progress = progress;
            entry.status = status.or(entry.status);
            entry.version = version.or(entry.version.take());
        }
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.iter().cloned().collect()
    }
}

/// The request parameters that name a resource, by their last name segment (`InstanceId.1`,
/// `InstanceIds.member.1` and `Targets.member.1.Id` count as `InstanceId`, `InstanceIds`
/// and `Id`).
const RESOURCE_PARAMS: &[&str] = &[
    "InstanceId",
    "InstanceIds",
    "NetworkInterfaceId",
    "GroupId",
    "GroupName",
    "VpcId",
    "SubnetId",
    "VolumeId",
    "SnapshotId",
    "SourceSnapshotId",
    "ResourceId",
    "AssociationId",
    "AllocationId",
    "NetworkAclId",
    "AutoScalingGroupName",
    "TargetGroupArn",
    "LoadBalancerName",
    "Id",
    "RoleName",
    "PolicyName",
    "InstanceProfileName",
    "Name",
    "SessionId",
    "CommandId",
    "KeyId",
];

/// The resources a request names: from its form fields (EC2 and the query protocols), its
/// JSON body's top-level fields (SSM and the other JSON protocols), or its path (S3: the
/// bucket and key).
pub fn resources(service: &str, path: &str, body: &[u8]) -> Vec<String> {
    if service == "s3" {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let mut out = Vec::new();
        if let Some(bucket) = parts.next().filter(|b| !b.is_empty()) {
            out.push(format!("Bucket={}", decode(bucket)));
        }
        if let Some(key) = parts.next().filter(|k| !k.is_empty()) {
            out.push(format!("Key={}", decode(key)));
        }
        return out;
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) {
        let mut out = Vec::new();
        for (name, value) in fields
            .iter()
            .filter(|(n, _)| RESOURCE_PARAMS.contains(&n.as_str()))
        {
            match value {
                serde_json::Value::String(v) => out.push(format!("{name}={v}")),
                serde_json::Value::Array(items) => out.extend(
                    items
                        .iter()
                        .filter_map(|v| v.as_str())
                        .map(|v| format!("{name}={v}")),
                ),
                _ => {}
            }
        }
        return out;
    }
    form_urlencoded::parse(body)
        // A describe call's filters name no resource it touches.
        .filter(|(key, _)| !key.starts_with("Filter."))
        .filter_map(|(key, value)| {
            let last = key
                .rsplit('.')
                .find(|segment| segment.parse::<u32>().is_err() && *segment != "member")
                .unwrap_or(&key);
            RESOURCE_PARAMS
                .contains(&last)
                .then(|| format!("{last}={value}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_resources_of_each_protocol() {
        let ec2 = b"Action=ModifyNetworkInterfaceAttribute&NetworkInterfaceId=eni-1\
                    &SecurityGroupId.1=sg-q&Version=2016-11-15";
        assert_eq!(
            resources("ec2", "/", ec2),
            ["NetworkInterfaceId=eni-1"],
            "a group being set is not a resource the call changes"
        );
        let tags = b"Action=CreateTags&ResourceId.1=i-1&ResourceId.2=sg-2&Tag.1.Key=k";
        assert_eq!(
            resources("ec2", "/", tags),
            ["ResourceId=i-1", "ResourceId=sg-2"]
        );
        let describe = b"Action=DescribeInstances&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1";
        assert!(resources("ec2", "/", describe).is_empty());
        let asg = b"Action=EnterStandby&AutoScalingGroupName=xroad&InstanceIds.member.1=i-1";
        assert_eq!(
            resources("autoscaling", "/", asg),
            ["AutoScalingGroupName=xroad", "InstanceIds=i-1"]
        );
        let iam = b"Action=PutRolePolicy&RoleName=ss&PolicyName=deny&PolicyDocument=%7B%7D";
        assert_eq!(
            resources("iam", "/", iam),
            ["RoleName=ss", "PolicyName=deny"]
        );
        let ssm = br#"{"Name": "/breakglass/isolation/i-1", "Value": "{}", "Overwrite": true}"#;
        assert_eq!(
            resources("ssm", "/", ssm),
            ["Name=/breakglass/isolation/i-1"]
        );
        let send = br#"{"InstanceIds": ["i-1"], "DocumentName": "AWS-RunShellScript"}"#;
        assert_eq!(resources("ssm", "/", send), ["InstanceIds=i-1"]);
        assert_eq!(
            resources(
                "s3",
                "/evidence/breakglass/IR-1/i-1/memory%20image.lime",
                b""
            ),
            [
                "Bucket=evidence",
                "Key=breakglass/IR-1/i-1/memory image.lime"
            ]
        );
        let mut ledger = Ledger::default();
        let seq = ledger.push(
            "ec2:CreateTags".into(),
            resources("ec2", "/", tags),
            &[],
            true,
        );
        assert!(!ledger.entries()[0].made(), "held before the call");
        ledger.update(seq, Progress::Answered, Some(200), None);
        let entry = &ledger.entries()[0];
        assert!(entry.made() && entry.succeeded());
    }
}
