//! IAM as moto enforces it, on a moto of the test's own (`support::own_moto`): users that
//! hold exactly a policy, and the switch that turns enforcement on.

use breakglass::sandbox::MotoServer;
use serde_json::Value;

/// An IAM user's access key.
pub struct Keys {
    pub id: String,
    pub secret: String,
}

/// Creates an IAM user holding `policy` (inline) and returns its keys.
pub async fn user(iam: &aws_sdk_iam::Client, name: &str, policy: &Value) -> Keys {
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(name)
        .policy_name("breakglass")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    Keys {
        id: key.access_key_id,
        secret: key.secret_access_key,
    }
}

/// Turns moto's IAM enforcement on from the next request.
pub fn enforce_iam(moto: &MotoServer) {
    let url = format!("{}/moto-api/reset-auth", moto.endpoint());
    let status = std::process::Command::new("curl")
        .args([
            "-sf",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            "-H",
            "Content-Type: text/plain",
            "--data",
            "0",
            &url,
        ])
        .status()
        .unwrap();
    assert!(status.success(), "moto's reset-auth");
}
