//! The arguments `capture-memory` and `collect-volatile` share: as written, checked as the
//! playbook loads (only the default timeout differs), and rendered for one target.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::ids;
use crate::playbook::actions::PlanCtx;
use crate::playbook::args::{Scalar, optional_template, scalar, template};
use crate::playbook::load::Checker;
use crate::playbook::template::Template;

/// The arguments as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectDoc {
    /// Evidence bucket (template); default: `[evidence] bucket` of the config.
    pub bucket: Option<Spanned<String>>,
    /// Minutes the command may run (or a template).
    pub timeout_minutes: Option<Spanned<Scalar>>,
    /// Directory on the host for the file before upload (template; default `/var/tmp`).
    pub work_dir: Option<Spanned<String>>,
}

/// The arguments, checked (templates).
#[derive(Debug, Clone, Serialize)]
pub struct CollectSpec {
    pub bucket: Option<Template>,
    /// Renders to a number of minutes.
    pub timeout_minutes: Template,
    pub work_dir: Template,
}

/// The arguments rendered for one target: `collect-volatile`'s (`capture-memory` adds the
/// tools).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectArgs {
    pub bucket: String,
    /// `[evidence] prefix` of the config.
    pub prefix: String,
    pub timeout_minutes: u32,
    /// Directory on the host for the file before upload (an evidence volume, ideally).
    pub work_dir: String,
}

/// Checks the arguments as the playbook loads; `timeout` is the default in minutes.
pub fn check(
    c: &mut Checker,
    doc: &Spanned<Option<CollectDoc>>,
    known: &dyn Fn(&str) -> bool,
    timeout: &str,
) -> Option<CollectSpec> {
    let args = doc.value.clone().unwrap_or_default();
    let timeout = scalar(
        c,
        args.timeout_minutes.as_ref(),
        timeout,
        known,
        &|v| v.parse::<u32>().is_ok_and(|m| (1..=720).contains(&m)),
        "`timeout_minutes` is a number of minutes from 1 to 720",
    );
    let bucket = optional_template(c, args.bucket.as_ref(), known, "`bucket`");
    let work_dir = match &args.work_dir {
        Some(text) => template(c, text, known, "`work_dir`"),
        None => Template::parse("/var/tmp", known).ok(),
    };
    Some(CollectSpec {
        bucket: bucket?,
        timeout_minutes: timeout?,
        work_dir: work_dir?,
    })
}

/// Renders and checks the arguments for one target; the bucket defaults to the config's.
pub fn render(spec: &CollectSpec, target: &PlanCtx<'_>) -> Result<CollectArgs, String> {
    let bucket = target
        .optional(spec.bucket.as_ref())
        .or_else(|| target.run.evidence.bucket.clone())
        .ok_or_else(|| {
            "no evidence bucket: set `[evidence] bucket` in the config or the step's `bucket`"
                .to_owned()
        })?;
    ids::check_bucket(&bucket).map_err(|r| format!("bucket `{bucket}`: {r}"))?;
    let minutes = target.render(&spec.timeout_minutes);
    let timeout_minutes = minutes
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=720).contains(m))
        .ok_or_else(|| format!("`timeout_minutes` is `{minutes}`, not 1 to 720"))?;
    let work_dir = target.render(&spec.work_dir);
    if !work_dir.starts_with('/') {
        return Err(format!("`work_dir` is `{work_dir}`, not an absolute path"));
    }
    Ok(CollectArgs {
        bucket,
        prefix: target.run.evidence.prefix.clone(),
        timeout_minutes,
        work_dir,
    })
}
