//! A small evaluator of identity-policy `Allow` statements, to judge the resources and
//! conditions of the printed policies: moto evaluates every call against `*` and treats any
//! condition as unmet, and implements neither `SimulateCustomPolicy` nor
//! `SimulatePrincipalPolicy`. It covers what breakglass's policies use, following the IAM
//! User Guide (policy evaluation logic; Resource element; condition operators): exact action
//! names (case-insensitive), ARN patterns with `*` and `?` matched segment by segment,
//! `StringEquals` and `StringLike` over single-valued keys (keys ANDed, values ORed, a key
//! the request lacks fails). Anything else panics, so a policy it cannot read never passes.

use serde_json::Value;

/// One authorization IAM makes: an action on one resource, with the context keys that
/// resource and request carry (`aws:ResourceTag/Role`, `kms:ViaService`, …).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a [(&'a str, &'a str)],
}

/// Whether a statement of `policy` allows `request` (no statement: the implicit deny).
pub fn allows(policy: &Value, request: &Request<'_>) -> bool {
    let statements = policy["Statement"].as_array().expect("Statement is a list");
    statements.iter().any(|s| statement_allows(s, request))
}

fn statement_allows(statement: &Value, request: &Request<'_>) -> bool {
    let object = statement.as_object().expect("a statement is an object");
    for element in object.keys() {
        assert!(
            matches!(
                element.as_str(),
                "Sid" | "Effect" | "Action" | "Resource" | "Condition"
            ),
            "`{element}` is not evaluated here"
        );
    }
    assert_eq!(statement["Effect"], "Allow", "only Allow is evaluated here");
    let actions = strings(&statement["Action"]);
    assert!(
        actions.iter().all(|a| !a.contains(['*', '?'])),
        "action wildcards are not evaluated here: {actions:?}"
    );
    actions
        .iter()
        .any(|a| a.eq_ignore_ascii_case(request.action))
        && strings(&statement["Resource"])
            .iter()
            .any(|pattern| arn_matches(pattern, request.resource))
        && statement
            .get("Condition")
            .is_none_or(|condition| conditions_hold(condition, request.context))
}

fn conditions_hold(condition: &Value, context: &[(&str, &str)]) -> bool {
    let operators = condition.as_object().expect("Condition is an object");
    operators.iter().all(|(operator, keys)| {
        let keys = keys.as_object().expect("a condition operator maps keys");
        keys.iter().all(|(key, expected)| {
            // Condition key names are case-insensitive; values are compared as written.
            let Some((_, actual)) = context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
            else {
                return false;
            };
            let expected = strings(expected);
            match operator.as_str() {
                "StringEquals" => expected.iter().any(|e| e == actual),
                "StringLike" => expected.iter().any(|e| glob(e, actual)),
                other => panic!("condition operator `{other}` is not evaluated here"),
            }
        })
    })
}

/// `*` alone is every resource; else the six colon-separated ARN parts match one by one,
/// the last (the resource, which may itself hold `:` and `/`) taking the rest.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let pattern: Vec<&str> = pattern.splitn(6, ':').collect();
    let arn: Vec<&str> = arn.splitn(6, ':').collect();
    pattern.len() == 6 && arn.len() == 6 && pattern.iter().zip(&arn).all(|(p, a)| glob(p, a))
}

/// `*` is any run of characters (none included), `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matched[j]: whether the pattern so far matches the first j characters of the text.
    let mut matched = vec![false; t.len() + 1];
    matched[0] = true;
    for c in p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match c {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                c => j > 0 && matched[j - 1] && t[j - 1] == c,
            };
        }
        matched = next;
    }
    matched[t.len()]
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list
            .iter()
            .map(|v| v.as_str().expect("a list of strings"))
            .collect(),
        other => panic!("expected a string or a list of strings, not {other}"),
    }
}

#[test]
fn the_evaluator_follows_iam_on_its_own_examples() {
    assert!(glob("ec2.*.amazonaws.com", "ec2.eu-west-1.amazonaws.com"));
    assert!(glob("a?c", "abc") && !glob("a?c", "ac") && glob("*", ""));
    assert!(!glob("breakglass/*", "other/breakglass/x"));
    // A wildcard in one ARN part does not reach into the next.
    assert!(!arn_matches(
        "arn:aws:ssm:*::document/AWS-RunShellScript",
        "arn:aws:ssm:eu-west-1:111122223333:document/AWS-RunShellScript"
    ));
    assert!(arn_matches(
        "arn:aws:iam::*:role/xroad/*",
        "arn:aws:iam::111122223333:role/xroad/ss-prod"
    ));
    let policy = serde_json::json!({ "Statement": [{
        "Effect": "Allow",
        "Action": ["ec2:CreateTags"],
        "Resource": "arn:aws:ec2:*:*:instance/*",
        "Condition": { "StringEquals": { "aws:ResourceTag/Role": ["a", "b"], "aws:ResourceTag/Env": "prod" } },
    }]});
    let request = |context| Request {
        action: "EC2:createtags",
        resource: "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
        context,
    };
    assert!(allows(
        &policy,
        &request(&[
            ("aws:ResourceTag/Role", "b"),
            ("aws:resourcetag/env", "prod")
        ])
    ));
    assert!(!allows(&policy, &request(&[("aws:ResourceTag/Role", "b")])));
    assert!(!allows(
        &policy,
        &request(&[
            ("aws:ResourceTag/Role", "c"),
            ("aws:ResourceTag/Env", "prod")
        ])
    ));
}
