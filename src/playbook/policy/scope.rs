//! What a printed policy is narrowed by: the discovery tags, the instance roles' path and the
//! evidence location, taken from the config once so the generator reads nothing else.

use crate::config::{Config, EvidenceConfig};
use crate::inventory::TagFilter;

/// The config's answers to "which resources may breakglass change".
#[derive(Debug, Clone, Default)]
pub struct PolicyScope {
    /// The discovery filters: changes to instances (and to roles, without `role_path`) are
    /// allowed only where the resource carries these tags. Empty: every instance.
    pub tags: Vec<TagFilter>,
    /// `[revoke] role_path`: the instance roles' IAM path (`/xroad/`).
    pub role_path: Option<String>,
    /// `[evidence]`: the bucket, prefix, KMS key and acquisition tools.
    pub evidence: EvidenceConfig,
}

impl PolicyScope {
    /// The scope `config` gives, with `tags` the discovery filters in force.
    pub fn new(config: &Config, tags: Vec<TagFilter>) -> PolicyScope {
        PolicyScope {
            tags,
            role_path: config.revoke.role_path.clone(),
            evidence: config.evidence.clone(),
        }
    }
}

/// A policy that cannot be narrowed enough to be safe to hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Role writes with neither a role path nor a tag to narrow them: that is
    /// `iam:PutRolePolicy` on every role, administrator rights for whoever holds it.
    #[error(
        "the playbook writes inline policies onto instance roles (`revoke-sessions`), and \
         neither `[revoke] role_path` nor a discovery tag filter says which roles: the policy \
         would let its holder write any policy onto any role, administrators' included"
    )]
    UnscopedRoles,
    /// `[evidence] kms_key_arn` names no key (the config check refuses it first).
    #[error("`evidence.kms_key_arn` {0}")]
    KmsKeyArn(String),
}

impl PolicyError {
    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            PolicyError::UnscopedRoles => "set `[revoke] role_path` to the path of the Security \
                Servers' instance roles (e.g. `/xroad/`), or keep a `discovery.filters` tag and \
                tag those roles with it (docs/iam.md, \"Instance roles\")"
                .into(),
            PolicyError::KmsKeyArn(_) => "give the key's ARN, \
                `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`, in `[evidence] kms_key_arn`"
                .into(),
        }
    }
}
