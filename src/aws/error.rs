//! The AWS error type: keeps service, operation, region, error code, message, request id
//! and whether a retry could help, and classifies the failure for exit codes and hints.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

/// What kind of failure an AWS call ended in; drives exit codes and hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// No credentials could be found by any provider.
    NoCredentials,
    /// The credentials (or SSO token) have expired.
    ExpiredCredentials,
    /// The credentials were rejected as unknown or malformed.
    InvalidCredentials,
    /// The caller is not allowed to make this call.
    AccessDenied,
    /// The API is not available at this endpoint (e.g. a partial emulator).
    NotImplemented,
    /// Throttled by the service even after the SDK's retries.
    Throttled,
    /// The endpoint could not be reached or did not answer in time.
    Unreachable,
    /// Any other error the service returned.
    Service,
    /// Anything else (malformed response, request construction).
    Other,
}

impl AwsErrorKind {
    /// Missing, expired or rejected credentials: signing in (again) is the fix.
    pub fn needs_sign_in(self) -> bool {
        matches!(
            self,
            AwsErrorKind::NoCredentials
                | AwsErrorKind::ExpiredCredentials
                | AwsErrorKind::InvalidCredentials
        )
    }
}

/// A failed AWS call, with everything a responder needs to report it.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub region: Option<String>,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub http_status: Option<u16>,
    pub retryable: bool,
    /// The request may have left, but no answer was read (the connection was cut, or the
    /// attempt timed out): whether AWS made the call is unknown until it is read back.
    pub answer_lost: bool,
}

impl AwsError {
    /// Converts an SDK error from `service:operation` in `region`.
    pub fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        region: &str,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut error = AwsError {
            service,
            operation,
            region: Some(region.to_owned()),
            kind: AwsErrorKind::Other,
            code: err.code().map(str::to_owned),
            message: err.message().map(str::to_owned),
            // EC2 and other query protocols carry it in the body, the rest in a header.
            request_id: err
                .meta()
                .request_id()
                .or_else(|| err.request_id())
                .map(str::to_owned),
            http_status: err.raw_response().map(|r| r.status().as_u16()),
            retryable: false,
            // No answer was read: the call may or may not have been made.
            answer_lost: match err {
                SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
                // Anything but a request that could not be built (a connection cut mid-answer
                // is an "other" connector error).
                SdkError::DispatchFailure(failure) => !failure.is_user(),
                _ => false,
            },
        };
        match err {
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
                error.kind = classify(error.code.as_deref(), error.http_status);
                error.retryable = matches!(error.kind, AwsErrorKind::Throttled)
                    || error.http_status.is_some_and(|s| s >= 500)
                        && error.kind != AwsErrorKind::NotImplemented;
                if error.kind == AwsErrorKind::NotImplemented && error.message.is_none() {
                    error.message = Some("the endpoint does not implement this API".into());
                }
            }
            SdkError::TimeoutError(_) => {
                error.kind = AwsErrorKind::Unreachable;
                error.retryable = true;
                error.message = Some("the call timed out".into());
            }
            SdkError::DispatchFailure(failure) => {
                error.retryable = failure.is_io() || failure.is_timeout();
                error.message = Some(crate::text::cause_chain(err));
                error.kind = if failure.is_user() && mentions_credentials(err) {
                    AwsErrorKind::NoCredentials
                } else if failure.is_io() || failure.is_timeout() {
                    AwsErrorKind::Unreachable
                } else {
                    credentials_or(err, AwsErrorKind::Other)
                };
            }
            SdkError::ConstructionFailure(_) => {
                error.message = Some(crate::text::cause_chain(err));
                error.kind = credentials_or(err, AwsErrorKind::Other);
            }
            _ => {
                error.message = Some(crate::text::cause_chain(err));
            }
        }
        // A credentials provider's own account says it best, without the SDK's wrapping.
        if let Some(failure) = find_source::<ProviderFailure>(err) {
            error.message = Some(failure.message.clone());
            if failure.needs_sign_in {
                error.kind = AwsErrorKind::ExpiredCredentials;
            }
        }
        error
    }

    /// An error raised before any call was made, while resolving credentials.
    pub fn credentials(kind: AwsErrorKind, message: String) -> Self {
        AwsError {
            service: "credentials",
            operation: "resolve",
            region: None,
            kind,
            code: None,
            message: Some(message),
            request_id: None,
            http_status: None,
            retryable: false,
            answer_lost: false,
        }
    }

    /// An error raised on this side of a call (building or reading it).
    pub fn local(
        service: &'static str,
        operation: &'static str,
        kind: AwsErrorKind,
        message: String,
    ) -> Self {
        AwsError {
            service,
            operation,
            region: None,
            kind,
            code: None,
            message: Some(message),
            request_id: None,
            http_status: None,
            retryable: matches!(kind, AwsErrorKind::Unreachable),
            answer_lost: false,
        }
    }

    pub fn kind(&self) -> AwsErrorKind {
        self.kind
    }

    /// How to fix it, in one line.
    pub fn hint(&self) -> Option<String> {
        // Session Manager's answers that say exactly what to check.
        let by_code = match self.code.as_deref() {
            Some("TargetNotConnected") => Some(
                "the instance's SSM agent is offline, or SSM does not manage it: check the SSM \
                 column of `breakglass list`, the instance role (AmazonSSMManagedInstanceCore) \
                 and the route to the ssm/ssmmessages endpoints",
            ),
            Some("InvalidDocument") => Some(
                "the session document does not exist in this account and region (Session \
                 Manager preferences create SSM-SessionManagerRunShell); see docs/sessions.md",
            ),
            _ => None,
        };
        if let Some(hint) = by_code {
            return Some(hint.to_owned());
        }
        let hint = match self.kind {
            AwsErrorKind::NoCredentials => {
                "sign in (`breakglass login --profile NAME`, then `--profile NAME`) or set \
                 AWS_PROFILE / AWS_ACCESS_KEY_ID; see docs/sign-in.md"
            }
            AwsErrorKind::ExpiredCredentials => {
                "your credentials have expired: sign in again (`breakglass login --profile NAME`) \
                 and rerun (or `breakglass resume RUN_ID` for a stopped playbook)"
            }
            AwsErrorKind::InvalidCredentials => {
                "the credentials were rejected: check AWS_PROFILE / AWS_ACCESS_KEY_ID and that \
                 they belong to this partition and account"
            }
            AwsErrorKind::AccessDenied => {
                "your role lacks this permission: see docs/iam.md for the minimal policy"
            }
            AwsErrorKind::NotImplemented => {
                "the endpoint does not offer this API; check AWS_ENDPOINT_URL"
            }
            AwsErrorKind::Throttled => {
                "AWS is throttling this account: wait a minute and rerun, or raise \
                 `aws.max_attempts` in the config"
            }
            AwsErrorKind::Unreachable => {
                "check the network, proxy and VPN, and AWS_ENDPOINT_URL / \
                 AWS_ENDPOINT_URL_<SERVICE> if set"
            }
            AwsErrorKind::Service | AwsErrorKind::Other => return None,
        };
        Some(hint.to_owned())
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} failed", self.service, self.operation)?;
        if let Some(region) = &self.region {
            write!(f, " in {region}")?;
        }
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, ": {code}: {message}")?,
            (Some(code), None) => write!(f, ": {code}")?,
            (None, Some(message)) => write!(f, ": {message}")?,
            (None, None) => {}
        }
        if let Some(status) = self.http_status.filter(|_| self.code.is_none()) {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// Maps AWS error codes (they differ per service) to a kind.
fn classify(code: Option<&str>, status: Option<u16>) -> AwsErrorKind {
    match code {
        Some(
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired",
        ) => AwsErrorKind::ExpiredCredentials,
        Some(
            "AuthFailure"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken",
        ) => AwsErrorKind::InvalidCredentials,
        Some(
            "UnauthorizedOperation"
            | "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedException",
        ) => AwsErrorKind::AccessDenied,
        Some(
            "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown",
        ) => AwsErrorKind::Throttled,
        Some(_) => AwsErrorKind::Service,
        // A partial emulator answers unimplemented APIs with a bare 500 or 501/404.
        None if matches!(status, Some(404 | 500 | 501)) => AwsErrorKind::NotImplemented,
        None => AwsErrorKind::Other,
    }
}

/// Why a credentials provider outside the SDK has no credentials, in its own words, and
/// whether signing in again fixes it. The IAM Identity Center provider (`signin`) raises it
/// as the source of its `CredentialsError`, so errors here need not know that module.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProviderFailure {
    pub message: String,
    pub needs_sign_in: bool,
}

/// The first error of type `T` in the chain of `err`.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

fn mentions_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let text = crate::text::cause_chain(err).to_ascii_lowercase();
    text.contains("credential") || text.contains("identity")
}

fn credentials_or(err: &(dyn std::error::Error + 'static), other: AwsErrorKind) -> AwsErrorKind {
    if mentions_credentials(err) {
        let text = crate::text::cause_chain(err).to_ascii_lowercase();
        if text.contains("expired") {
            AwsErrorKind::ExpiredCredentials
        } else {
            AwsErrorKind::NoCredentials
        }
    } else {
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes_across_services() {
        let cases = [
            (
                Some("RequestExpired"),
                None,
                AwsErrorKind::ExpiredCredentials,
            ),
            (
                Some("ExpiredTokenException"),
                None,
                AwsErrorKind::ExpiredCredentials,
            ),
            (Some("AuthFailure"), None, AwsErrorKind::InvalidCredentials),
            (
                Some("UnauthorizedOperation"),
                None,
                AwsErrorKind::AccessDenied,
            ),
            (
                Some("AccessDeniedException"),
                None,
                AwsErrorKind::AccessDenied,
            ),
            (Some("RequestLimitExceeded"), None, AwsErrorKind::Throttled),
            (
                Some("InvalidInstanceID.NotFound"),
                None,
                AwsErrorKind::Service,
            ),
            (None, Some(500), AwsErrorKind::NotImplemented),
            (None, Some(400), AwsErrorKind::Other),
        ];
        for (code, status, kind) in cases {
            assert_eq!(classify(code, status), kind, "{code:?} {status:?}");
        }
    }

    #[test]
    fn display_names_service_operation_region_code_and_request_id() {
        let err = AwsError {
            service: "ec2",
            operation: "DescribeInstances",
            region: Some("eu-west-1".into()),
            kind: AwsErrorKind::AccessDenied,
            code: Some("UnauthorizedOperation".into()),
            message: Some("You are not authorized".into()),
            request_id: Some("req-1".into()),
            http_status: Some(403),
            retryable: false,
            answer_lost: false,
        };
        assert_eq!(
            err.to_string(),
            "ec2:DescribeInstances failed in eu-west-1: UnauthorizedOperation: \
             You are not authorized (request id req-1)"
        );
        assert!(err.hint().unwrap().contains("docs/iam.md"));
    }
}
