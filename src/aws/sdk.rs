//! One shared `SdkConfig` for the whole process: profile, timeouts and adaptive retry are
//! set here once; every service client is derived from it, per region.

use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_types::SdkConfig;
use aws_types::region::Region;

use super::{AutoScaling, AwsError, AwsErrorKind, CloudWatchLogs, Ec2, Elbv2, Iam, S3, Ssm, Sts};
use crate::config::AwsClientConfig;

/// What the AWS layer needs from flags and config.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Profile name; `None` lets the SDK use `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
    pub client: AwsClientConfig,
    /// A fixed endpoint, region and static credentials (the local sandbox); `None` uses
    /// the standard chain.
    pub sandbox: Option<SandboxEndpoint>,
}

/// Where calls that belong to no target go (STS, the audit copies): the first of the
/// regions in use, else `us-east-1`.
pub fn home_region<'a>(regions: impl IntoIterator<Item = &'a str>) -> &'a str {
    regions.into_iter().next().unwrap_or("us-east-1")
}

/// An emulated AWS endpoint with its fake, non-secret credentials.
#[derive(Debug, Clone)]
pub struct SandboxEndpoint {
    pub endpoint_url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The loaded AWS configuration every client is built from.
#[derive(Debug, Clone)]
pub struct AwsContext {
    sdk: SdkConfig,
    /// AWS's time as IAM's answers give it.
    clock: super::clock::AwsClock,
}

impl AwsContext {
    /// Loads the standard AWS configuration chain (env, profile files, SSO, IMDS, …).
    pub async fn load(settings: &AwsSettings) -> Self {
        let client = &settings.client;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::adaptive().with_max_attempts(client.max_attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(client.connect_timeout_secs))
                    .operation_attempt_timeout(Duration::from_secs(client.attempt_timeout_secs))
                    .operation_timeout(Duration::from_secs(client.operation_timeout_secs))
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(sandbox) = &settings.sandbox {
            loader = loader
                .endpoint_url(&sandbox.endpoint_url)
                .region(Region::new(sandbox.region.clone()))
                .credentials_provider(aws_credential_types::Credentials::new(
                    &sandbox.access_key_id,
                    &sandbox.secret_access_key,
                    None,
                    None,
                    "breakglass-sandbox",
                ));
        }
        let sdk = loader.load().await;
        AwsContext {
            sdk,
            clock: Default::default(),
        }
    }

    /// The same configuration with every call signed by `provider`'s credentials (an IAM
    /// Identity Center role, from `signin`).
    pub fn with_credentials(self, provider: impl ProvideCredentials + 'static) -> AwsContext {
        let sdk = self
            .sdk
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
        AwsContext {
            sdk,
            clock: self.clock,
        }
    }

    /// The shared SDK configuration (for clients outside the service traits, e.g. tests).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// How a session's data channel signs its websocket upgrade in `region`: with this
    /// context's credentials (resolved at each connection).
    pub fn stream_signing(&self, region: &str) -> Option<crate::datachannel::connect::Signing> {
        self.sdk
            .credentials_provider()
            .map(|credentials| crate::datachannel::connect::Signing {
                credentials,
                region: region.to_owned(),
            })
    }

    /// The region from the environment or profile, if any.
    pub fn default_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.as_ref().to_owned())
    }

    /// Resolves credentials once, so "no credentials" is reported before any call.
    pub async fn check_credentials(&self) -> Result<(), AwsError> {
        let Some(provider) = self.sdk.credentials_provider() else {
            return Err(AwsError::credentials(
                AwsErrorKind::NoCredentials,
                "no credentials provider is configured".into(),
            ));
        };
        match provider.provide_credentials().await {
            Ok(creds) if creds.expiry().is_some_and(|at| at <= SystemTime::now()) => {
                Err(AwsError::credentials(
                    AwsErrorKind::ExpiredCredentials,
                    "the temporary credentials have expired".into(),
                ))
            }
            Ok(_) => Ok(()),
            Err(err) => Err(credentials_error(&err)),
        }
    }

    fn region(region: &str) -> Region {
        Region::new(region.to_owned())
    }

    pub fn ec2(&self, region: &str) -> Ec2 {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        Ec2::new(aws_sdk_ec2::Client::from_conf(conf), region)
    }

    pub fn ssm(&self, region: &str) -> Ssm {
        let conf = aws_sdk_ssm::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        Ssm::new(aws_sdk_ssm::Client::from_conf(conf), region)
    }

    pub fn autoscaling(&self, region: &str) -> AutoScaling {
        let conf = aws_sdk_autoscaling::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        AutoScaling::new(aws_sdk_autoscaling::Client::from_conf(conf), region)
    }

    pub fn elb_classic(&self, region: &str) -> super::ClassicElb {
        let conf = aws_sdk_elasticloadbalancing::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        super::ClassicElb::new(
            aws_sdk_elasticloadbalancing::Client::from_conf(conf),
            region,
        )
    }

    pub fn elbv2(&self, region: &str) -> Elbv2 {
        let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        Elbv2::new(
            aws_sdk_elasticloadbalancingv2::Client::from_conf(conf),
            region,
        )
    }

    pub fn cloudwatch_logs(&self, region: &str) -> CloudWatchLogs {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        CloudWatchLogs::new(aws_sdk_cloudwatchlogs::Client::from_conf(conf), region)
    }

    pub fn s3(&self, region: &str) -> S3 {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        S3::new(aws_sdk_s3::Client::from_conf(conf), region)
    }

    pub fn iam(&self, region: &str) -> Iam {
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .interceptor(self.clock.clone())
            .build();
        Iam::new(
            aws_sdk_iam::Client::from_conf(conf),
            region,
            self.clock.clone(),
        )
    }

    pub fn kms(&self, region: &str) -> super::Kms {
        let conf = aws_sdk_kms::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        super::Kms::new(aws_sdk_kms::Client::from_conf(conf), region)
    }

    pub fn sts(&self, region: &str) -> Sts {
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .region(Self::region(region))
            .build();
        Sts::new(aws_sdk_sts::Client::from_conf(conf), region)
    }
}

fn credentials_error(err: &CredentialsError) -> AwsError {
    let message = crate::text::error_chain(err);
    let lower = message.to_ascii_lowercase();
    let kind = if lower.contains("expired") || lower.contains("sso session") {
        AwsErrorKind::ExpiredCredentials
    } else {
        AwsErrorKind::NoCredentials
    };
    AwsError::credentials(kind, message)
}
