//! Session transcripts in asciicast v2 (one JSON header line, then `[seconds, "o"|"i"|"r",
//! data]` events): what the shell printed, what was typed, and resizes, with timestamps —
//! replayable with `asciinema play` and hashed (SHA-256) into the audit trail when the
//! session ends. Written 0600 in a 0700 directory, never through a symlink.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use sha2::{Digest, Sha256};

/// An open transcript.
pub struct Transcript {
    file: File,
    path: PathBuf,
    started: Instant,
    hasher: Sha256,
    bytes: u64,
    /// The incomplete UTF-8 sequence at the end of the last output (or input) chunk.
    pending: [Vec<u8>; 2],
}

/// What a closed transcript is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

impl Transcript {
    /// Creates `dir/<session id>.cast` with its header.
    pub fn create(
        dir: &Path,
        session_id: &str,
        width: u16,
        height: u16,
        title: &str,
    ) -> std::io::Result<Transcript> {
        crate::files::private_dir(dir)?;
        if crate::files::is_symlink(dir) {
            return Err(std::io::Error::other(format!(
                "{} is a symbolic link; transcripts are not written through links",
                dir.display()
            )));
        }
        let name: String = session_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.cast"));
        // O_EXCL: never follows a planted symlink and never overwrites.
        let file = crate::files::create_new(&path)?;
        let mut transcript = Transcript {
            file,
            path,
            started: Instant::now(),
            hasher: Sha256::new(),
            bytes: 0,
            pending: [Vec::new(), Vec::new()],
        };
        let header = json!({
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": chrono::Utc::now().timestamp(),
            "title": title,
            "env": { "TERM": std::env::var("TERM").unwrap_or_default() },
        });
        transcript.line(&header.to_string())?;
        Ok(transcript)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn line(&mut self, text: &str) -> std::io::Result<()> {
        let line = format!("{text}\n");
        self.hasher.update(line.as_bytes());
        self.bytes += line.len() as u64;
        self.file.write_all(line.as_bytes())
    }

    fn event(&mut self, code: &str, data: &str) -> std::io::Result<()> {
        let at = self.started.elapsed().as_secs_f64();
        let event = json!([(at * 1_000_000.0).round() / 1_000_000.0, code, data]);
        self.line(&event.to_string())
    }

    /// Text of a chunk, keeping an incomplete UTF-8 sequence at its end for the next one.
    fn text(&mut self, slot: usize, bytes: &[u8]) -> String {
        let mut data = std::mem::take(&mut self.pending[slot]);
        data.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest = data.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(err) => {
                    let (valid, after) = rest.split_at(err.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        // Cut off at the end: wait for the rest.
                        None => {
                            self.pending[slot] = after.to_vec();
                            break;
                        }
                        Some(n) => {
                            text.push('\u{fffd}');
                            rest = &after[n..];
                        }
                    }
                }
            }
        }
        text
    }

    /// What the shell printed.
    pub fn output(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let text = self.text(0, bytes);
        if text.is_empty() {
            return Ok(());
        }
        self.event("o", &text)
    }

    /// What was typed.
    pub fn input(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let text = self.text(1, bytes);
        if text.is_empty() {
            return Ok(());
        }
        self.event("i", &text)
    }

    pub fn resize(&mut self, width: u16, height: u16) -> std::io::Result<()> {
        self.event("r", &format!("{width}x{height}"))
    }

    /// Flushes to disk and returns where it is and its hash.
    pub fn seal(self) -> std::io::Result<Sealed> {
        self.file.sync_all()?;
        Ok(Sealed {
            path: self.path,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_asciicast_v2_whose_hash_is_the_file_hash() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Transcript::create(dir.path(), "alice-0123456789abcdef0", 80, 24, "t").unwrap();
        t.input(b"echo h\xc3").unwrap();
        t.input(b"\xa9llo\r").unwrap();
        t.output("héllo\r\n".as_bytes()).unwrap();
        t.output(b"bad \xff byte").unwrap();
        t.resize(100, 30).unwrap();
        let sealed = t.seal().unwrap();
        let text = std::fs::read_to_string(&sealed.path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(
            (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
            (Some(80), Some(24))
        );
        assert_eq!(lines[1][1], "i");
        assert_eq!(
            lines[1][2], "echo h",
            "the cut-off é waits for its second byte"
        );
        assert_eq!(lines[2][2], "éllo\r");
        assert_eq!(lines[3][1], "o");
        assert_eq!(lines[4][2], "bad \u{fffd} byte");
        assert_eq!(lines[5], serde_json::json!([lines[5][0], "r", "100x30"]));
        assert_eq!(sealed.sha256, hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(sealed.bytes, text.len() as u64);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sealed.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Never over an existing file (or a planted link).
        let again = Transcript::create(dir.path(), "alice-0123456789abcdef0", 80, 24, "t");
        assert!(again.is_err());
    }
}
