//! Loading: every broken playbook is reported with its line and column.

use super::super::actions::{self, ActionInfo, Capability};
use super::super::load::check_order_for_tests as check_order;
use super::super::{Catalog, Origin, load};

/// A playbook with `steps` spliced in.
fn with_steps(steps: &str) -> String {
    format!("name: t\ndescription: test\nsteps:\n{steps}")
}

#[test]
fn every_builtin_playbook_loads() {
    let catalog = Catalog::load(None);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    assert!(catalog.find("tag-incident").is_some());
}

#[test]
fn a_good_playbook_loads_with_defaults() {
    let text = "name: mark\ndescription: d\nparameters:\n  note:\n    type: string\n    \
                description: n\n    default: hi\nsteps:\n  - tag:\n      tags:\n        \
                k: \"{{ incident }}/{{ note }}\"\n    on_error: continue\n";
    let playbook = load(text, Origin::Builtin).unwrap();
    assert_eq!(playbook.name, "mark");
    assert_eq!(playbook.steps.len(), 1);
    let step = &playbook.steps[0];
    assert_eq!(step.name, "tag", "the action name is the default step name");
    assert!(!step.confirm, "tag does not ask by default");
    assert_eq!(step.on_error, super::super::OnError::Continue);
    assert_eq!(playbook.sha256.len(), 64);
}

#[test]
fn broken_playbooks_are_reported_with_line_and_column() {
    // (text, line, column, message fragment)
    let cases: Vec<(String, u64, Option<u64>, &str)> = vec![
        ("name: [oops\n".into(), 1, Some(7), ""),
        (
            "name: t\ndescription: d\nsteps: []\nextra: 1\n".into(),
            4,
            Some(1),
            "unknown field `extra`",
        ),
        (
            with_steps("  - tagg:\n      tags: {a: b}\n"),
            4,
            Some(5),
            "unknown field `tagg`",
        ),
        (
            with_steps("  - tag:\n      tags: {a: b}\n      colour: red\n"),
            6,
            Some(7),
            "unknown field `colour`",
        ),
        (
            with_steps("  - tag:\n      tags: [a, b]\n"),
            5,
            Some(13),
            "",
        ),
        (
            with_steps("  - on_error: sometimes\n    tag: {tags: {a: b}}\n"),
            4,
            Some(15),
            "unknown variant `sometimes`",
        ),
        (
            with_steps("  - confirm: maybe\n    tag: {tags: {a: b}}\n"),
            4,
            Some(14),
            "",
        ),
        (
            with_steps("  - name: nothing\n"),
            4,
            Some(5),
            "names no action",
        ),
        (
            with_steps("  - tag:\n      tags:\n        a: \"{{ nope }}\"\n"),
            6,
            Some(12),
            "unknown variable `nope`",
        ),
        (
            with_steps("  - tag:\n      tags:\n        aws:name: x\n"),
            6,
            Some(19),
            "`aws:` prefix is reserved",
        ),
        (
            with_steps("  - tag:\n      tags: {}\n"),
            5,
            Some(7),
            "at least one entry",
        ),
        (
            "name: t\ndescription: d\nsteps: []\n".into(),
            3,
            Some(8),
            "no steps",
        ),
        (
            "name: Not Valid\ndescription: d\nsteps:\n  - tag: {tags: {a: b}}\n".into(),
            1,
            Some(7),
            "playbook name",
        ),
        (
            "name: t\ndescription: d\nparameters:\n  n:\n    type: integer\n    \
             description: d\n    default: ten\nsteps:\n  - tag: {tags: {a: b}}\n"
                .into(),
            7,
            Some(14),
            "not a integer",
        ),
        (
            "name: t\ndescription: d\nparameters:\n  incident:\n    type: string\n    \
             description: d\nsteps:\n  - tag: {tags: {a: b}}\n"
                .into(),
            5,
            Some(5),
            "hides the built-in variable",
        ),
        (
            "name: t\ndescription: d\nparameters:\n  mode:\n    type: string\n    \
             description: d\n    choices: [a, b]\n    default: c\nsteps:\n  - tag: {tags: {a: b}}\n"
                .into(),
            5,
            Some(5),
            "not one of its `choices`",
        ),
    ];
    for (text, line, column, fragment) in cases {
        let err = load(&text, Origin::File("t.yml".into())).unwrap_err();
        let first = &err.diagnostics[0];
        assert_eq!(
            (first.line, first.column),
            (Some(line), column),
            "position for:\n{text}\n→ {err}"
        );
        assert!(
            first.message.contains(fragment),
            "`{fragment}` in `{}` for:\n{text}",
            first.message
        );
        assert_eq!(first.origin, "t.yml");
        assert!(!first.hint.is_empty());
        assert!(err.to_string().starts_with(&format!("t.yml:{line}:")));
    }
}

#[test]
fn all_problems_of_a_file_are_reported_together() {
    let text = with_steps("  - tag:\n      tags:\n        aws:x: \"{{ a }}\"\n  - name: empty\n");
    let err = load(&text, Origin::Builtin).unwrap_err();
    let lines: Vec<Option<u64>> = err.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![Some(6), Some(6), Some(7)], "{err}");
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let text = format!("# {}\n", "x".repeat(super::super::MAX_PLAYBOOK_BYTES));
    let err = load(&text, Origin::Builtin).unwrap_err();
    assert!(err.to_string().contains("limited to"), "{err}");
}

// The order rule, with made-up actions (the real ones that need or cut the SSM agent —
// capture-memory, revoke-sessions — declare themselves the same way).
static CAPTURE: ActionInfo = ActionInfo {
    name: "capture",
    summary: "",
    calls: &[],
    confirm_by_default: false,
    needs: &[Capability::SsmAgent],
    cuts: &[],
};
static REVOKE: ActionInfo = ActionInfo {
    name: "revoke",
    summary: "",
    calls: &[],
    confirm_by_default: true,
    needs: &[],
    cuts: &[Capability::SsmAgent],
};

#[test]
fn a_step_that_needs_what_an_earlier_step_cut_is_an_unsafe_order() {
    let safe = check_order(&[&CAPTURE, &REVOKE, &actions::tag::INFO]);
    assert!(safe.is_empty(), "{safe:?}");
    let unsafe_order = check_order(&[&actions::tag::INFO, &REVOKE, &CAPTURE]);
    assert_eq!(unsafe_order.len(), 1);
    let d = &unsafe_order[0];
    assert!(
        d.message
            .contains("unsafe order: step 3 `capture` needs a working SSM agent")
    );
    assert!(d.message.contains("step 2 `revoke`"));
    assert!(d.hint.contains("move `capture` before `revoke`"));
    assert_eq!(d.line, Some(30), "reported at the offending step's line");
}

#[test]
fn actions_without_arguments_take_an_empty_map_or_nothing() {
    for step in [
        "  - protect-from-scale-in: {}\n",
        "  - protect-from-scale-in:\n",
    ] {
        let playbook =
            load(&with_steps(step), Origin::Builtin).unwrap_or_else(|e| panic!("{step}: {e}"));
        assert_eq!(playbook.steps[0].info.name, "protect-from-scale-in");
    }
    let err = load(
        &with_steps("  - protect-from-scale-in: {force: true}\n"),
        Origin::Builtin,
    )
    .unwrap_err();
    assert_eq!(err.diagnostics[0].line, Some(4), "{err}");
    assert!(err.to_string().contains("unknown field `force`"), "{err}");
    let two = load(
        &with_steps("  - protect-from-scale-in: {}\n    tag: {tags: {a: b}}\n"),
        Origin::Builtin,
    )
    .unwrap_err();
    assert!(two.to_string().contains("names 2 actions"), "{two}");
}

#[test]
fn capturing_memory_after_revoking_or_stopping_is_refused() {
    let cases = [
        (
            "  - revoke-sessions:\n  - capture-memory:\n",
            "`revoke-sessions`",
            "a working SSM agent",
        ),
        (
            "  - stop-instance:\n  - collect-volatile:\n",
            "`stop-instance`",
            "a working SSM agent",
        ),
        (
            "  - isolate:\n  - capture-memory:\n",
            "`isolate`",
            "a working SSM agent",
        ),
    ];
    for (steps, culprit, need) in cases {
        let err = load(&with_steps(steps), Origin::File("t.yml".into())).unwrap_err();
        let first = &err.diagnostics[0];
        assert!(first.message.contains("unsafe order"), "{err}");
        assert!(
            first.message.contains(culprit) && first.message.contains(need),
            "{err}"
        );
        assert_eq!(
            first.line,
            Some(5),
            "at the step that comes too late: {err}"
        );
    }
    // The built-in `contain` has them in the right order.
    assert!(Catalog::load(None).find("contain").is_some());
}
