//! The per-run names of the audit copies, derived from a run id (the rules the configured
//! names follow are checked at config load, in `config` and `ids`).

/// A run id made safe for stream names and keys: anything but `A-Za-z0-9._-` becomes `_`.
pub fn run_component(run_id: &str) -> String {
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    match safe.as_str() {
        "" | "." | ".." => format!("run{safe}"),
        _ => safe,
    }
}

/// The log stream of one run: `<prefix>/<run>`, or `<run>` with an empty prefix.
pub fn log_stream_name(prefix: &str, run_id: &str) -> String {
    let run = run_component(run_id);
    match prefix.trim_end_matches('/') {
        "" => run,
        prefix => format!("{prefix}/{run}"),
    }
}

/// The key of one batch: `<prefix>/<run>/<first>-<last>.jsonl`, sequence numbers
/// zero-padded to 12 digits so that listing order is sequence order.
pub fn object_key(prefix: &str, run_id: &str, first_seq: u64, last_seq: u64) -> String {
    let run = run_component(run_id);
    let file = format!("{first_seq:012}-{last_seq:012}.jsonl");
    match prefix.trim_end_matches('/') {
        "" => format!("{run}/{file}"),
        prefix => format!("{prefix}/{run}/{file}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_run_names() {
        let run = "0195f0a2-7c1e-7000-8000-0123456789ab";
        assert_eq!(
            log_stream_name("breakglass", run),
            format!("breakglass/{run}")
        );
        assert_eq!(
            log_stream_name("breakglass/", run),
            format!("breakglass/{run}")
        );
        assert_eq!(log_stream_name("", run), run);
        assert_eq!(
            object_key("breakglass/", run, 0, 49),
            format!("breakglass/{run}/000000000000-000000000049.jsonl")
        );
        assert_eq!(
            object_key("", "a b/c:*", 7, 7),
            "a_b_c__/000000000007-000000000007.jsonl"
        );
        assert_eq!(run_component(".."), "run..");
        assert_eq!(run_component(""), "run");
        // Keys sort in sequence order.
        assert!(object_key("p", run, 950, 999) < object_key("p", run, 1000, 1049));
    }
}
