//! Auto Scaling's maximum-size rule, which moto does not apply to `ExitStandby` (and
//! applies to `AttachInstances` against its instance count, not the desired capacity).
//! The *Amazon EC2 Auto Scaling User Guide* (*Attach EC2 instances to your Auto Scaling
//! group*) documents that attaching raises the desired capacity by the number of instances
//! and that the request fails when that passes the maximum size; `ExitStandby` raises the
//! desired capacity in the same way (*ExitStandby*, API reference), and AWS refuses a
//! desired capacity above the maximum with a `ValidationError`. Before either call reaches
//! moto, the simulator reads the group's sizes from moto and refuses as AWS does.

use axum::body::Body;
use axum::http::{Request, header};

use super::request::form_field;
use super::server::App;

/// Whether `operation` raises the desired capacity of a group.
pub fn asks(operation: &str) -> bool {
    matches!(
        operation,
        "autoscaling:ExitStandby" | "autoscaling:AttachInstances"
    )
}

/// The first `<name>` element's number in an XML answer.
fn number(xml: &str, name: &str) -> Option<i64> {
    let (_, rest) = xml.split_once(&format!("<{name}>"))?;
    let (value, _) = rest.split_once(&format!("</{name}>"))?;
    value.trim().parse().ok()
}

/// AWS's refusal when the call would take the group past its maximum size; `None` when
/// it fits, or when the group's sizes cannot be read (the call then goes to moto as is).
/// `authorization` is the caller's own header, so moto answers for the caller's account.
pub async fn refusal(app: &App, authorization: Option<&str>, request: &[u8]) -> Option<String> {
    let group = form_field(request, "AutoScalingGroupName")?;
    let adding = super::lifecycle::instance_ids(&String::from_utf8_lossy(request)).len() as i64;
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "DescribeAutoScalingGroups")
        .append_pair("Version", "2011-01-01")
        .append_pair("AutoScalingGroupNames.member.1", &group)
        .finish();
    let mut ask = Request::post(format!("{}/", app.moto))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(authorization) = authorization {
        ask = ask.header(header::AUTHORIZATION, authorization);
    }
    let response = app
        .client
        .request(ask.body(Body::from(body)).ok()?)
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let bytes = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
        .await
        .ok()?;
    let xml = String::from_utf8_lossy(&bytes);
    let (min, max) = (number(&xml, "MinSize")?, number(&xml, "MaxSize")?);
    let desired = number(&xml, "DesiredCapacity")?;
    (desired + adding > max).then(|| {
        format!(
            "Desired capacity:{} must be between the specified min size:{min} and max \
             size:{max}",
            desired + adding
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sizes_of_the_group() {
        let xml = "<AutoScalingGroups><member><MinSize>1</MinSize><MaxSize>2</MaxSize>\
                   <DesiredCapacity>2</DesiredCapacity></member></AutoScalingGroups>";
        assert_eq!(number(xml, "MaxSize"), Some(2));
        assert_eq!(number(xml, "DesiredCapacity"), Some(2));
        assert_eq!(number(xml, "Missing"), None);
        assert!(asks("autoscaling:ExitStandby") && !asks("autoscaling:EnterStandby"));
    }
}
