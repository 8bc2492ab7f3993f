//! Running a playbook from the TUI: pick one for the selected servers → its plan (every
//! step and AWS call, warnings) → a dry run, or the confirmation of a live run (incident id,
//! and the target typed out for destructive steps) → live progress per target and step →
//! the result with what to do next.

use std::collections::BTreeMap;
use std::time::Instant;

use super::action::{Action, Command, Finished};
use super::app::{Effect, Input};
use crate::playbook::{ExecEvent, Plan, RunStatus};

/// Where the flow is.
#[derive(Debug)]
pub enum FlowStep {
    Pick,
    /// A live run needs an incident id before it is planned.
    AskIncident {
        playbook: String,
    },
    Planning {
        playbook: String,
        auto_run: bool,
    },
    Planned {
        plan: Box<Plan>,
    },
    /// Typing the confirmation of a live run; `need` is what must be typed ("" = Enter).
    Confirm {
        plan: Box<Plan>,
        need: String,
    },
    Running {
        plan: Box<Plan>,
        progress: Progress,
    },
    Done {
        plan: Box<Plan>,
        progress: Progress,
        /// The run's end, or why it could not run (as shown).
        result: Result<Finished, String>,
    },
}

/// One target's step, as the progress view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub instance_id: String,
    pub name: String,
    pub step: usize,
    pub steps: usize,
    pub step_name: String,
    pub status: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub started: Instant,
    pub calls: usize,
    pub rows: Vec<Row>,
    /// The call in flight per instance.
    pub in_flight: BTreeMap<String, String>,
    pub interrupting: bool,
}

impl Progress {
    fn of(plan: &Plan) -> Progress {
        let rows = plan
            .targets
            .iter()
            .flat_map(|t| {
                t.steps.iter().map(|s| Row {
                    instance_id: t.instance_id.clone(),
                    name: t.name.clone().unwrap_or_default(),
                    step: s.step,
                    steps: t.steps.len(),
                    step_name: s.name.clone(),
                    status: "pending".into(),
                    detail: String::new(),
                })
            })
            .collect();
        Progress {
            started: Instant::now(),
            calls: 0,
            rows,
            in_flight: BTreeMap::new(),
            interrupting: false,
        }
    }

    fn row(&mut self, instance_id: &str, step: usize) -> Option<&mut Row> {
        self.rows
            .iter_mut()
            .find(|r| r.instance_id == instance_id && r.step == step)
    }

    fn apply(&mut self, event: ExecEvent) {
        match event {
            ExecEvent::StepStarted(at) => {
                if let Some(row) = self.row(&at.instance_id, at.step) {
                    row.status = "running".into();
                }
            }
            ExecEvent::CallStarted {
                at,
                service,
                operation,
            } => {
                self.in_flight
                    .insert(at.instance_id, format!("{service}:{operation}"));
            }
            ExecEvent::CallFinished { at, call } => {
                self.calls += 1;
                self.in_flight.remove(&at.instance_id);
                if let (Some(error), Some(row)) = (call.error, self.row(&at.instance_id, at.step)) {
                    row.detail = error;
                }
            }
            ExecEvent::StepFinished { at, result } => {
                if let Some(row) = self.row(&at.instance_id, at.step) {
                    row.status = result.status.as_str().into();
                    row.detail = result.detail;
                }
            }
            ExecEvent::Note { at, message, .. } | ExecEvent::Progress { at, message } => {
                if let Some(row) = self.row(&at.instance_id, at.step) {
                    row.detail = message;
                }
            }
            ExecEvent::Interrupting => self.interrupting = true,
        }
    }
}

/// What a key did to the flow.
#[derive(Debug, Default)]
pub struct KeyOutcome {
    pub effects: Vec<Effect>,
    pub input: Option<Input>,
    /// Back to the server list.
    pub leave: bool,
    /// Reload the inventory on the way back (something may have changed).
    pub refresh: bool,
}

#[derive(Debug)]
pub struct Flow {
    /// Instance ids.
    pub targets: Vec<String>,
    /// The playbook under the cursor.
    pub cursor: usize,
    /// What is being typed (incident id, confirmation).
    pub typed: String,
    pub step: FlowStep,
    /// How far the plan is scrolled.
    pub scroll: u16,
    /// Whether the planned run is a dry run (for re-planning after the incident prompt).
    dry_run: bool,
}

impl Flow {
    pub fn new(targets: Vec<String>) -> Flow {
        Flow {
            targets,
            cursor: 0,
            typed: String::new(),
            step: FlowStep::Pick,
            scroll: 0,
            dry_run: false,
        }
    }

    fn plan_effect(
        &mut self,
        playbook: String,
        dry_run: bool,
        incident: Option<String>,
        auto_run: bool,
    ) -> Effect {
        self.dry_run = dry_run;
        self.step = FlowStep::Planning {
            playbook: playbook.clone(),
            auto_run,
        };
        Effect::Plan {
            playbook,
            targets: self.targets.clone(),
            dry_run,
            incident,
        }
    }

    /// A key while the flow has the screen.
    pub fn key(
        &mut self,
        command: Command,
        playbooks: &[(String, String)],
        dry_run: bool,
        incident: Option<String>,
    ) -> KeyOutcome {
        let mut out = KeyOutcome::default();
        let step = std::mem::replace(&mut self.step, FlowStep::Pick);
        self.step = match step {
            FlowStep::Pick => match command {
                Command::Up => {
                    self.cursor = self.cursor.saturating_sub(1);
                    FlowStep::Pick
                }
                Command::Down => {
                    self.cursor = (self.cursor + 1).min(playbooks.len().saturating_sub(1));
                    FlowStep::Pick
                }
                Command::Open | Command::DryRun => {
                    let Some((name, _)) = playbooks.get(self.cursor) else {
                        return out;
                    };
                    let dry = dry_run || command == Command::DryRun;
                    if !dry && incident.is_none() {
                        out.input = Some(Input::Incident);
                        self.typed.clear();
                        FlowStep::AskIncident {
                            playbook: name.clone(),
                        }
                    } else {
                        let auto = command == Command::DryRun;
                        let effect = self.plan_effect(name.clone(), dry, incident, auto);
                        out.effects.push(effect);
                        return out;
                    }
                }
                Command::Back => {
                    out.leave = true;
                    FlowStep::Pick
                }
                _ => FlowStep::Pick,
            },
            FlowStep::Planned { plan } => match command {
                Command::Back => FlowStep::Pick,
                Command::Up
                | Command::Down
                | Command::PageUp
                | Command::PageDown
                | Command::Top => {
                    self.scroll = match command {
                        Command::Up => self.scroll.saturating_sub(1),
                        Command::Down => self.scroll.saturating_add(1),
                        Command::PageUp => self.scroll.saturating_sub(10),
                        Command::PageDown => self.scroll.saturating_add(10),
                        _ => 0,
                    };
                    FlowStep::Planned { plan }
                }
                Command::DryRun => {
                    let playbook = plan.playbook.name.clone();
                    let effect = self.plan_effect(playbook, true, incident, true);
                    out.effects.push(effect);
                    return out;
                }
                Command::Open if plan.dry_run => {
                    out.effects.push(Effect::Execute(plan.clone()));
                    FlowStep::Running {
                        progress: Progress::of(&plan),
                        plan,
                    }
                }
                Command::Open => {
                    let need = confirmation_needed(&plan);
                    self.typed.clear();
                    out.input = Some(Input::Confirm);
                    FlowStep::Confirm { plan, need }
                }
                _ => FlowStep::Planned { plan },
            },
            FlowStep::Done {
                plan,
                progress,
                result,
            } => match command {
                Command::Back | Command::Open => {
                    out.leave = true;
                    out.refresh = true;
                    FlowStep::Pick
                }
                _ => FlowStep::Done {
                    plan,
                    progress,
                    result,
                },
            },
            other => other,
        };
        out
    }

    /// Results of effects.
    pub fn take(&mut self, action: Action) -> (Vec<Effect>, Option<(String, bool)>) {
        let step = std::mem::replace(&mut self.step, FlowStep::Pick);
        let mut effects = Vec::new();
        let mut toast = None;
        self.step = match (step, action) {
            (FlowStep::Planning { auto_run, .. }, Action::Planned(Ok(plan))) => {
                self.scroll = 0;
                if auto_run {
                    effects.push(Effect::Execute(plan.clone()));
                    FlowStep::Running {
                        progress: Progress::of(&plan),
                        plan,
                    }
                } else {
                    FlowStep::Planned { plan }
                }
            }
            (FlowStep::Planning { .. }, Action::Planned(Err(err))) => {
                toast = Some((err.one_line(), true));
                FlowStep::Pick
            }
            (FlowStep::Running { plan, mut progress }, Action::Exec(event)) => {
                progress.apply(event);
                FlowStep::Running { plan, progress }
            }
            (FlowStep::Running { plan, progress }, Action::RunFinished(result)) => {
                toast = Some(match &result {
                    Ok(f) => (
                        format!("run {} {}", plan.run_id, f.status.as_str()),
                        f.status != RunStatus::Succeeded,
                    ),
                    Err(err) => (err.one_line(), true),
                });
                FlowStep::Done {
                    plan,
                    progress,
                    result: result.map_err(|err| err.one_line()),
                }
            }
            (step, _) => step,
        };
        (effects, toast)
    }

    /// After the incident id was given: plan the chosen playbook with it.
    pub fn replan(&mut self, incident: Option<String>) -> Vec<Effect> {
        let step = std::mem::replace(&mut self.step, FlowStep::Pick);
        match step {
            FlowStep::AskIncident { playbook } => {
                vec![self.plan_effect(playbook, false, incident, false)]
            }
            other => {
                self.step = other;
                Vec::new()
            }
        }
    }

    /// Esc while typing.
    pub fn cancel_confirm(&mut self) {
        self.typed.clear();
        let step = std::mem::replace(&mut self.step, FlowStep::Pick);
        self.step = match step {
            FlowStep::Confirm { plan, .. } => FlowStep::Planned { plan },
            FlowStep::AskIncident { .. } => FlowStep::Pick,
            other => other,
        };
    }

    /// Enter on the confirmation: the live run starts when the right text was typed.
    pub fn confirmed(&mut self) -> Result<Vec<Effect>, String> {
        let step = std::mem::replace(&mut self.step, FlowStep::Pick);
        match step {
            FlowStep::Confirm { plan, need } if self.typed.trim() == need => {
                self.typed.clear();
                let effects = vec![Effect::Execute(plan.clone())];
                self.step = FlowStep::Running {
                    progress: Progress::of(&plan),
                    plan,
                };
                Ok(effects)
            }
            FlowStep::Confirm { plan, need } => {
                let message = format!("type `{need}` exactly to confirm, or Esc to cancel");
                self.step = FlowStep::Confirm { plan, need };
                Err(message)
            }
            other => {
                self.step = other;
                Ok(Vec::new())
            }
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
}

/// What a live run's confirmation asks to type: for destructive steps the target's Name (or
/// id), or the number of targets when there are several; otherwise nothing (Enter).
pub fn confirmation_needed(plan: &Plan) -> String {
    let destructive = plan
        .targets
        .iter()
        .any(|t| t.steps.iter().any(|s| s.confirm));
    if !destructive {
        return String::new();
    }
    match plan.targets.as_slice() {
        [one] => one.name.clone().unwrap_or_else(|| one.instance_id.clone()),
        many => many.len().to_string(),
    }
}
