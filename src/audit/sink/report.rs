//! What the shipper reports at the end of a run: per sink, how many records were shipped
//! and which were not, and why.

use std::fmt;

use serde::Serialize;

use crate::aws::AwsError;

/// The outcome of shipping one run's records to every sink.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SinkReport {
    pub sinks: Vec<SinkOutcome>,
}

impl SinkReport {
    /// Every record reached every sink.
    pub fn is_complete(&self) -> bool {
        self.sinks.iter().all(SinkOutcome::is_complete)
    }
}

impl fmt::Display for SinkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outcome in &self.sinks {
            writeln!(f, "{outcome}")?;
        }
        Ok(())
    }
}

/// What happened at one sink.
#[derive(Debug, Clone, Serialize)]
pub struct SinkOutcome {
    pub sink: String,
    pub shipped: u64,
    pub failures: Vec<SinkFailure>,
}

impl SinkOutcome {
    pub fn new(sink: String) -> SinkOutcome {
        SinkOutcome {
            sink,
            shipped: 0,
            failures: Vec::new(),
        }
    }

    /// Records that did not reach this sink.
    pub fn not_shipped(&self) -> u64 {
        self.failures.iter().map(|f| f.records).sum()
    }

    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for SinkOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let missing = self.not_shipped();
        if self.failures.is_empty() {
            return write!(f, "{}: {} record(s) shipped", self.sink, self.shipped);
        }
        write!(
            f,
            "{}: {} record(s) shipped, {missing} NOT shipped",
            self.sink, self.shipped
        )?;
        for failure in &self.failures {
            write!(f, "\n  {failure}")?;
        }
        Ok(())
    }
}

/// Records that did not reach a sink, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SinkFailure {
    /// First and last sequence number concerned, when known.
    pub seqs: Option<(u64, u64)>,
    pub records: u64,
    pub message: String,
    pub hint: Option<String>,
    /// The AWS error behind it, when there was one.
    #[serde(skip)]
    pub error: Option<AwsError>,
}

impl SinkFailure {
    pub fn new(seqs: Option<(u64, u64)>, records: u64, message: impl Into<String>) -> SinkFailure {
        SinkFailure {
            seqs,
            records,
            message: message.into(),
            hint: None,
            error: None,
        }
    }

    pub fn from_error(
        seqs: Option<(u64, u64)>,
        records: u64,
        error: AwsError,
        hint: Option<String>,
    ) -> SinkFailure {
        SinkFailure {
            seqs,
            records,
            message: error.to_string(),
            hint,
            error: Some(error),
        }
    }

    pub fn refused(seq: u64, reason: String) -> SinkFailure {
        SinkFailure::new(Some((seq, seq)), 1, reason)
    }

    /// Counts one more record under this failure (a sink disabled after a permanent error).
    pub fn extend(&mut self, seq: u64) {
        self.records += 1;
        self.seqs = Some(self.seqs.map_or((seq, seq), |(first, _)| (first, seq)));
    }
}

impl fmt::Display for SinkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seqs {
            Some((first, last)) if first == last => write!(f, "record {first}")?,
            Some((first, last)) => write!(f, "records {first}–{last}")?,
            None => write!(f, "{} record(s)", self.records)?,
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}
