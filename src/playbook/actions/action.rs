//! What an action module provides, as one trait: its declaration (`ActionInfo`), its
//! arguments as written, as checked when the playbook loads and as rendered for one target,
//! the calls it plans, and their execution (`NoArgsAction`: the same for an action without
//! arguments). `registry.rs` wires every action in.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;

use super::ActionInfo;
use crate::inventory::Server;
use crate::playbook::args::{ArgsDoc, NoArgs};
use crate::playbook::exec::{StepCtx, StepError, StepResult};
use crate::playbook::load::Checker;
use crate::playbook::plan::{PlannedCall, RunInfo};
use crate::playbook::template::Template;

/// One action of a playbook step.
pub trait Action {
    /// The arguments as written: the step's field named after the action.
    type Doc: DeserializeOwned + ArgsDoc;
    /// The arguments checked as the playbook loads (templates not yet rendered).
    type Spec: Debug + Clone + Serialize;
    /// The arguments rendered for one target: what the plan shows and the step executes.
    type Args: Debug + Clone + PartialEq + Eq + Serialize;

    /// What the engine knows about the action.
    const INFO: &'static ActionInfo;

    /// Checks the arguments as the playbook loads, reporting each problem at its position;
    /// `None` when one is invalid.
    fn check(
        c: &mut Checker,
        doc: &Spanned<Self::Doc>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<Self::Spec>;

    /// Renders the arguments for one target and lists the calls. Pure: no I/O. The error
    /// says why the step cannot be planned for this target.
    fn plan(spec: &Self::Spec, target: &PlanCtx<'_>) -> Result<Planned<Self::Args>, String>;

    /// Runs the step, making its calls only through `StepCtx::read` / `StepCtx::mutate`
    /// (which write the intent and outcome records).
    fn execute(
        ctx: &StepCtx<'_>,
        args: &Self::Args,
    ) -> impl Future<Output = Result<StepResult, StepError>> + Send;
}

/// An action without arguments (`- stop-instance:` or `- stop-instance: {}`): it declares
/// its plan and execution only, and is an `Action` through the impl below.
pub trait NoArgsAction {
    /// What the engine knows about the action.
    const INFO: &'static ActionInfo;

    /// The calls and notes for one target, from what discovery saw. Pure: no I/O.
    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>);

    /// Runs the step (see `Action::execute`).
    fn execute(ctx: &StepCtx<'_>) -> impl Future<Output = Result<StepResult, StepError>> + Send;
}

impl<T: NoArgsAction> Action for T {
    type Doc = Option<NoArgs>;
    type Spec = NoArgs;
    type Args = NoArgs;
    const INFO: &'static ActionInfo = <T as NoArgsAction>::INFO;

    fn check(
        _: &mut Checker,
        _: &Spanned<Option<NoArgs>>,
        _: &dyn Fn(&str) -> bool,
    ) -> Option<NoArgs> {
        Some(NoArgs {})
    }

    fn plan(_: &NoArgs, target: &PlanCtx<'_>) -> Result<Planned<NoArgs>, String> {
        let (calls, notes) = <T as NoArgsAction>::plan(target.server);
        Ok(Planned {
            args: NoArgs {},
            calls,
            notes,
        })
    }

    fn execute(
        ctx: &StepCtx<'_>,
        _: &NoArgs,
    ) -> impl Future<Output = Result<StepResult, StepError>> + Send {
        <T as NoArgsAction>::execute(ctx)
    }
}

/// What a step is planned against: one target, its template variables and the run.
pub struct PlanCtx<'a> {
    pub server: &'a Server,
    pub vars: &'a BTreeMap<String, String>,
    pub run: &'a RunInfo,
}

impl PlanCtx<'_> {
    /// The template rendered for this target.
    pub fn render(&self, template: &Template) -> String {
        template.render(self.vars)
    }

    /// An optional template rendered for this target; empty counts as not given.
    pub fn optional(&self, template: Option<&Template>) -> Option<String> {
        template.map(|t| self.render(t)).filter(|v| !v.is_empty())
    }

    /// A template that must render to `true` or `false`; the error names the argument.
    pub fn flag(&self, name: &str, template: &Template) -> Result<bool, String> {
        match self.render(template).as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            value => Err(format!("`{name}` is `{value}`, not true or false")),
        }
    }
}

/// One step planned for one target: its rendered arguments, intended calls and notes.
pub struct Planned<A> {
    pub args: A,
    pub calls: Vec<PlannedCall>,
    pub notes: Vec<String>,
}
