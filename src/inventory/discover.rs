//! Discovery: reads EC2, then SSM, Auto Scaling and ELB for the instances found, in every
//! region concurrently, and joins them into an `Inventory`.

use serde::Serialize;

use super::filter::TagFilter;
use super::join::{RegionData, join};
use super::server::Server;
use crate::aws::{
    AutoScalingApi, AwsContext, AwsError, AwsErrorKind, CallerIdentity, Ec2Api, Ec2Filter,
    Elbv2Api, SsmApi, StsApi,
};

/// Which instances count as Security Servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every instance in the region.
    All,
    /// Instances matching every filter.
    Filters(Vec<TagFilter>),
}

impl Selection {
    fn ec2_filters(&self) -> Vec<Ec2Filter> {
        match self {
            Selection::All => Vec::new(),
            Selection::Filters(filters) => filters.iter().map(TagFilter::to_ec2).collect(),
        }
    }

    /// How the selection reads in output: `all` or the filters joined by ` AND `.
    pub fn describe(&self) -> String {
        match self {
            Selection::All => "all".into(),
            Selection::Filters(filters) => filters
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    }
}

/// The Security Servers found, with what could not be read. Also the JSON document of
/// `breakglass list --output json` (format version 1).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Inventory {
    pub version: u32,
    pub account: String,
    pub caller_arn: String,
    pub regions: Vec<String>,
    pub selection: String,
    pub servers: Vec<Server>,
    pub warnings: Vec<String>,
}

/// Discovers the servers of every region concurrently, asking STS who the caller is at the
/// same time; any region failing fails the whole.
pub async fn discover(
    ctx: &AwsContext,
    regions: &[String],
    selection: &Selection,
) -> Result<Inventory, AwsError> {
    let first = crate::aws::home_region(regions.iter().map(String::as_str));
    let sts = ctx.sts(first);
    let identity = sts.get_caller_identity();
    let (identity, found) =
        futures::future::try_join(identity, discover_regions(ctx, regions, selection)).await?;
    Ok(inventory(&identity, regions, selection, found))
}

/// As `discover`, for a caller already identified (one `GetCallerIdentity` less).
pub async fn discover_as(
    ctx: &AwsContext,
    caller: &CallerIdentity,
    regions: &[String],
    selection: &Selection,
) -> Result<Inventory, AwsError> {
    let found = discover_regions(ctx, regions, selection).await?;
    Ok(inventory(caller, regions, selection, found))
}

type RegionFindings = Vec<(Vec<Server>, Vec<String>)>;

async fn discover_regions(
    ctx: &AwsContext,
    regions: &[String],
    selection: &Selection,
) -> Result<RegionFindings, AwsError> {
    futures::future::try_join_all(regions.iter().map(|region| async move {
        discover_region(
            region,
            &ctx.ec2(region),
            &ctx.ssm(region),
            &ctx.autoscaling(region),
            &ctx.elbv2(region),
            selection,
        )
        .await
    }))
    .await
}

fn inventory(
    caller: &CallerIdentity,
    regions: &[String],
    selection: &Selection,
    found: RegionFindings,
) -> Inventory {
    let mut servers = Vec::new();
    let mut warnings = Vec::new();
    for (region_servers, region_warnings) in found {
        servers.extend(region_servers);
        warnings.extend(region_warnings);
    }
    Inventory {
        version: 1,
        account: caller.account.clone(),
        caller_arn: caller.arn.clone(),
        regions: regions.to_vec(),
        selection: selection.describe(),
        servers,
        warnings,
    }
}

/// Discovers one region's servers; enrichment calls that are denied or unavailable become
/// warnings (the server list is still useful), authentication failures do not.
pub async fn discover_region(
    region: &str,
    ec2: &impl Ec2Api,
    ssm: &impl SsmApi,
    asg: &impl AutoScalingApi,
    elb: &impl Elbv2Api,
    selection: &Selection,
) -> Result<(Vec<Server>, Vec<String>), AwsError> {
    let instances = ec2.describe_instances(&selection.ec2_filters()).await?;
    let ids: Vec<String> = instances.iter().map(|i| i.id.clone()).collect();
    let mut vpcs: Vec<String> = instances.iter().filter_map(|i| i.vpc_id.clone()).collect();
    vpcs.sort();
    vpcs.dedup();
    let mut warnings = Vec::new();
    if ids.is_empty() {
        return Ok((Vec::new(), warnings));
    }
    let (managed, memberships, target_groups) = tokio::join!(
        ssm.describe_instance_information(&ids),
        asg.describe_auto_scaling_instances(&ids),
        elb.describe_instance_target_groups(&vpcs),
    );
    let managed = degrade(managed, "SSM agent status is unknown", &mut warnings)?;
    let memberships = degrade(
        memberships,
        "Auto Scaling membership is unknown",
        &mut warnings,
    )?;
    let target_groups = degrade(target_groups, "target groups are unknown", &mut warnings)?;
    let servers = join(RegionData {
        region: region.to_owned(),
        instances,
        managed,
        asg: memberships.unwrap_or_default(),
        target_groups: target_groups.unwrap_or_default(),
    });
    Ok((servers, warnings))
}

fn degrade<T>(
    result: Result<T, AwsError>,
    consequence: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err)
            if matches!(
                err.kind(),
                AwsErrorKind::NoCredentials
                    | AwsErrorKind::ExpiredCredentials
                    | AwsErrorKind::InvalidCredentials
            ) =>
        {
            Err(err)
        }
        Err(err) => {
            tracing::warn!(error = %err, "{consequence}");
            warnings.push(format!("{consequence}: {err}"));
            Ok(None)
        }
    }
}
