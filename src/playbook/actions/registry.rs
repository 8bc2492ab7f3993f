//! Every action, one line each: `yaml_key => Variant(module::Type)`, the type implementing
//! `Action`. The macro below makes, from that list alone, the action fields of a step as
//! written (`StepDoc`), `ActionSpec` and `ResolvedAction`, `ACTIONS`, and the load-time
//! check, plan and execute dispatch to each action. The list's order is the order of the
//! step's fields in parser messages, of the load-time checks and of `ACTIONS`.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::action::{Action, PlanCtx, Planned};
use super::{ActionInfo, collect, contain, escalate, revoke, scale_in, snapshot, subnet_acl, tag};
use crate::playbook::args::action_field;
use crate::playbook::exec::{StepCtx, StepError, StepResult};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::schema::OnError;

macro_rules! registry {
    ($($field:ident => $variant:ident($action:ty),)+) => {
        /// One step as written: common fields plus exactly one action field.
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub(crate) struct StepDoc {
            pub name: Option<String>,
            #[serde(rename = "on_error", default)]
            pub on_error: OnError,
            /// Ask before this step runs; defaults to what the action declares.
            pub confirm: Option<bool>,
            $(
                #[serde(default, deserialize_with = "action_field")]
                pub $field: Option<Spanned<<$action as Action>::Doc>>,
            )+
        }

        /// A step's action with its arguments (templates not yet rendered).
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "action", rename_all = "kebab-case")]
        pub enum ActionSpec {
            $($variant(<$action as Action>::Spec),)+
        }

        /// A step's arguments with templates rendered for its target.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum ResolvedAction {
            $($variant(<$action as Action>::Args),)+
        }

        /// Every action.
        pub static ACTIONS: &[&ActionInfo] = &[$(<$action as Action>::INFO,)+];

        /// Every action field of a step: its info and, when its arguments are valid, its
        /// spec.
        pub(crate) fn check(
            c: &mut Checker,
            doc: &StepDoc,
            known: &dyn Fn(&str) -> bool,
        ) -> Vec<(&'static ActionInfo, Option<ActionSpec>)> {
            let mut present = Vec::new();
            $(
                if let Some(args) = &doc.$field {
                    let spec = <$action as Action>::check(c, args, known);
                    present.push((<$action as Action>::INFO, spec.map(ActionSpec::$variant)));
                }
            )+
            present
        }

        /// Plans one step for one target: its rendered arguments, calls and notes.
        pub(crate) fn plan(
            spec: &ActionSpec,
            target: &PlanCtx<'_>,
        ) -> Result<(ResolvedAction, Vec<PlannedCall>, Vec<String>), String> {
            match spec {
                $(ActionSpec::$variant(spec) => {
                    let Planned { args, calls, notes } = <$action as Action>::plan(spec, target)?;
                    Ok((ResolvedAction::$variant(args), calls, notes))
                })+
            }
        }

        /// Runs one planned step's action.
        pub(crate) async fn execute(
            ctx: &StepCtx<'_>,
            args: &ResolvedAction,
        ) -> Result<StepResult, StepError> {
            match args {
                $(ResolvedAction::$variant(args) => <$action as Action>::execute(ctx, args).await,)+
            }
        }

        /// Each action's YAML key and variant, as written in the list above.
        #[cfg(test)]
        const KEYS: &[(&str, &str, &ActionInfo)] =
            &[$((stringify!($field), stringify!($variant), <$action as Action>::INFO),)+];
    };
}

registry! {
    tag => Tag(tag::Tag),
    protect_from_scale_in => ProtectFromScaleIn(scale_in::ProtectFromScaleIn),
    isolate => Isolate(contain::isolate::Isolate),
    release => Release(contain::release::Release),
    stop_instance => StopInstance(escalate::StopInstance),
    disassociate_elastic_ip => DisassociateElasticIp(escalate::DisassociateElasticIp),
    deny_subnet => DenySubnet(subnet_acl::DenySubnet),
    lift_subnet_deny => LiftSubnetDeny(subnet_acl::LiftSubnetDeny),
    snapshot => Snapshot(snapshot::Snapshot),
    revoke_sessions => RevokeSessions(revoke::RevokeSessions),
    capture_memory => CaptureMemory(collect::memory::CaptureMemory),
    collect_volatile => CollectVolatile(collect::volatile::CollectVolatile),
}

/// The action called `name`.
pub fn find(name: &str) -> Option<&'static ActionInfo> {
    ACTIONS.iter().copied().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ProtectFromScaleIn` → `protect-from-scale-in`, as serde's `kebab-case` renames it.
    fn kebab(variant: &str) -> String {
        let mut out = String::new();
        for (i, c) in variant.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn each_actions_key_and_variant_are_its_name() {
        assert_eq!(KEYS.len(), ACTIONS.len());
        for (key, variant, info) in KEYS {
            assert_eq!(
                key.replace('_', "-"),
                info.name,
                "the YAML key of `{variant}`"
            );
            assert_eq!(
                kebab(variant),
                info.name,
                "the `action` of `ActionSpec::{variant}`"
            );
            assert!(find(info.name).is_some_and(|found| std::ptr::eq(found, *info)));
        }
    }
}
