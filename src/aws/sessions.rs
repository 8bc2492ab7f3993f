//! Session Manager's control plane: `StartSession` and `ResumeSession` (the data channel
//! itself is [`crate::datachannel`]). The stream token is a secret: it is kept out of
//! `Debug` output, logs and audit records.

use std::future::Future;

use aws_types::request_id::RequestId;

use super::{AwsError, Ssm};

/// Where a started or resumed session's data channel is.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamAccess {
    pub session_id: String,
    pub stream_url: String,
    pub token: String,
    pub request_id: Option<String>,
}

impl std::fmt::Debug for StreamAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAccess")
            .field("session_id", &self.session_id)
            .field("stream_url", &self.stream_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The session calls.
pub trait SessionApi: Send + Sync {
    /// `StartSession` with the default shell document (or `document` with `parameters`).
    fn start_session(
        &self,
        target: &str,
        document: Option<&str>,
        parameters: &[(String, Vec<String>)],
    ) -> impl Future<Output = Result<StreamAccess, AwsError>> + Send;

    /// `ResumeSession`: a new token for the same session; `None` once it has ended.
    fn resume_session(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<StreamAccess>, AwsError>> + Send;
}

impl SessionApi for Ssm {
    async fn start_session(
        &self,
        target: &str,
        document: Option<&str>,
        parameters: &[(String, Vec<String>)],
    ) -> Result<StreamAccess, AwsError> {
        let mut request = self
            .client()
            .start_session()
            .target(target)
            .set_document_name(document.map(str::to_owned));
        for (name, values) in parameters {
            request = request.parameters(name, values.clone());
        }
        let out = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "StartSession", self.region(), &e))?;
        Ok(StreamAccess {
            session_id: out.session_id().unwrap_or_default().to_owned(),
            stream_url: out.stream_url().unwrap_or_default().to_owned(),
            token: out.token_value().unwrap_or_default().to_owned(),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn resume_session(&self, session_id: &str) -> Result<Option<StreamAccess>, AwsError> {
        let out = self
            .client()
            .resume_session()
            .session_id(session_id)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let err = AwsError::from_sdk("ssm", "ResumeSession", self.region(), &e);
                return if err.code.as_deref() == Some("DoesNotExistException") {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let token = out.token_value().unwrap_or_default();
        // An empty token means the session timed out.
        Ok((!token.is_empty()).then(|| StreamAccess {
            session_id: session_id.to_owned(),
            stream_url: out.stream_url().unwrap_or_default().to_owned(),
            token: token.to_owned(),
            request_id: out.request_id().map(str::to_owned),
        }))
    }
}

/// Resumes one session through `ResumeSession` (the data channel's reconnect hook).
pub struct SessionResumer {
    pub ssm: Ssm,
    pub session_id: String,
}

impl crate::datachannel::client::Resumer for SessionResumer {
    fn resume(
        &self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + '_>> {
        Box::pin(async move {
            self.ssm
                .resume_session(&self.session_id)
                .await
                .map(|access| access.map(|a| a.token))
                .map_err(|e| e.to_string())
        })
    }
}
