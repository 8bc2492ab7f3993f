//! Discovery selectors: `tag:Key=Value[,Value2]`, parsed once and turned into EC2 filters.

use std::fmt;

use crate::aws::Ec2Filter;

/// One tag selector; several are ANDed, the values of one are ORed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub values: Vec<String>,
}

impl TagFilter {
    /// Parses `tag:Key=Value` or `tag:Key=V1,V2`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<TagFilter, String> {
        let (key, values) = crate::ids::parse_tag_selector(text)?;
        Ok(TagFilter { key, values })
    }

    pub fn to_ec2(&self) -> Ec2Filter {
        Ec2Filter {
            name: format!("tag:{}", self.key),
            values: self.values.clone(),
        }
    }
}

impl fmt::Display for TagFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag:{}={}", self.key, self.values.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors() {
        let cases = [
            (
                "tag:Role=xroad-security-server",
                "Role",
                vec!["xroad-security-server"],
            ),
            ("tag:Env=prod,staging", "Env", vec!["prod", "staging"]),
            ("tag:Name=ss-1=a", "Name", vec!["ss-1=a"]),
            ("tag: Team = ir ", "Team", vec!["ir"]),
        ];
        for (text, key, values) in cases {
            let filter = TagFilter::parse(text).unwrap();
            assert_eq!(filter.key, key, "{text}");
            assert_eq!(filter.values, values, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_selectors_with_a_reason() {
        let cases = [
            ("Role=x", "is not a tag selector"),
            ("tag:Role", "has no `=`"),
            ("tag:=x", "empty tag key"),
            ("tag:Role=", "has no value"),
            ("tag:Role=,", "has no value"),
        ];
        for (text, reason) in cases {
            let err = TagFilter::parse(text).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.contains("tag:Key=Value"), "{text}: {err}");
        }
    }

    #[test]
    fn converts_to_an_ec2_filter() {
        let filter = TagFilter::parse("tag:Env=prod,dev").unwrap().to_ec2();
        assert_eq!(filter.name, "tag:Env");
        assert_eq!(filter.values, ["prod", "dev"]);
    }
}
