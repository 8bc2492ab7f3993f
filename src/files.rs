//! Files breakglass keeps for itself — the audit log, the token cache, transcripts, the
//! inventory cache: created 0600 in directories created 0700, never written through a
//! symbolic link planted in their place.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `dir` and its missing parents with mode 0700 (an existing one is left as it is).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Whether `path` itself is a symbolic link (dangling or not).
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Opens `path` to read and append, creating it 0600 (and its directory 0700). A symbolic
/// link at `path` fails the open (`O_NOFOLLOW`), so a link planted between a check and the
/// open is refused too.
pub fn open_append(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Creates `path` 0600, failing if anything — a file or a link — is already there.
pub fn create_new(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Replaces `path` with `bytes` atomically: written to a 0600 temporary file next to it,
/// flushed, then renamed over it (a rename replaces a link, it never writes through one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    private_dir(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".breakglass-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_and_links_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        let log = dir.join("log");
        open_append(&log).unwrap();
        assert_eq!((mode(&dir), mode(&log)), (0o700, 0o600));

        let target = root.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(is_symlink(&link));
        assert!(open_append(&link).is_err(), "O_NOFOLLOW refuses the link");
        assert!(create_new(&link).is_err());
        write_atomic(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(!is_symlink(&link), "the link itself was replaced");
        assert_eq!(mode(&link), 0o600);
    }
}
