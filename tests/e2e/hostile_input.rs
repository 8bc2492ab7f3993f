//! Hostile input, table-driven: files and arguments built to crash, exhaust or trick
//! breakglass — huge or deeply nested YAML, alias bombs, unknown actions, non-UTF-8 bytes,
//! template and shell injection in parameters and targets, a symlinked audit log. Each is
//! refused with a clear message and its exit code, or carried as inert data; none panics
//! and none changes anything. (Shell metacharacters reaching a host script are in
//! `tests/e2e/collect.rs`; a tampered token cache in `tests/e2e/signin.rs`.)

use crate::support;

use crate::support::Account;
use crate::support::runs::seed;

/// A playbook step around `body` (the file's text after `steps:`).
fn playbook(steps: &str) -> Vec<u8> {
    format!("name: hostile\ndescription: built to break the loader\nsteps:\n{steps}").into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_playbooks_are_refused_with_a_message_and_exit_2() {
    let account = Account::new().await;
    let nested = format!(
        "  - tag-incident: {}{}\n",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let prev = (b'a' + level - 1) as char;
        let name = (b'a' + level) as char;
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "huge",
            playbook(&"  - tag-incident: {}\n".repeat(20_000)),
            "playbooks are limited to",
        ),
        ("deeply nested", playbook(&nested), "hostile.yml"),
        ("alias bomb", bomb.into_bytes(), "hostile.yml"),
        (
            "unknown action",
            playbook("  - format-disk: {}\n"),
            "unknown",
        ),
        (
            "not UTF-8",
            [playbook("  - tag-incident: {}\n"), vec![0xff, 0xfe, b'\n']].concat(),
            "not UTF-8",
        ),
        (
            "a template that is not a parameter",
            playbook(
                "  - tag-incident:\n      tags: { note: \"{{ env.AWS_SECRET_ACCESS_KEY }}\" }\n",
            ),
            "hostile.yml",
        ),
    ];
    for (what, bytes, fragment) in cases {
        let file = account.home().join("hostile.yml");
        std::fs::write(&file, &bytes).unwrap();
        let run = account
            .bg()
            .args(["playbook", "validate", file.to_str().unwrap()])
            .run();
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(fragment) && !run.stderr.contains("panicked"),
            "{what}: `{fragment}` in\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn injection_in_arguments_is_refused_or_inert_and_changes_nothing() {
    let account = Account::new().await;
    let ids = seed(&account, "10.71.0.0/16").await;
    let canary = account.home().join("pwned");
    let touch = format!("$(touch {})", canary.display());
    let backtick = format!("`touch {}`", canary.display());
    let refused: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["-t".into(), touch.clone(), "--dry-run".into()],
            "no instance named",
        ),
        (
            vec![
                "-t".into(),
                "ss-1".into(),
                "--incident".into(),
                backtick.clone(),
                "--yes".into(),
            ],
            "invalid incident id",
        ),
        (
            vec![
                "-t".into(),
                "ss-1".into(),
                "--incident".into(),
                "IR-1\nrm -rf /".into(),
                "--yes".into(),
            ],
            "invalid incident id",
        ),
        (
            vec![
                "-t".into(),
                "ss-1".into(),
                "--dry-run".into(),
                "-p".into(),
                format!("{touch}=1"),
            ],
            "unknown parameter",
        ),
    ];
    for (args, fragment) in refused {
        let run = account.bg().args(["run", "tag-incident"]).args(&args).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(fragment), "{args:?}: {}", run.stderr);
    }
    // The audit log saw no run: everything was refused before any AWS call.
    assert!(!support::runs::audit_path(&account).exists());

    // A name with shell and template syntax is only ever a string: it matches nothing and
    // is echoed back as typed.
    let odd = "ss-1;{{ incident }}|$(id)";
    let run = account
        .bg()
        .args(["run", "tag-incident", "-t", odd, "--dry-run"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(odd), "{}", run.stderr);
    assert!(!canary.exists(), "nothing was executed");
    assert!(ids.contains_key("ss-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_symlinked_audit_log_is_refused_and_its_target_untouched() {
    let account = Account::new().await;
    let ids = seed(&account, "10.72.0.0/16").await;
    let target = account.home().join("elsewhere.jsonl");
    std::fs::write(&target, "not yours\n").unwrap();
    let link = account.home().join("audit.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = account
        .bg()
        .env("BREAKGLASS_AUDIT_LOG", &link)
        .args(support::live("tag-incident", "ss-1", "IR-9"))
        .run();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not yours\n");
    let tags = support::runs::all_tags(&account.context().await, &ids).await;
    assert!(
        tags.iter().all(|t| !t.contains_key("breakglass:incident")),
        "nothing was tagged: {tags:?}"
    );
}
