//! Opening the sign-in page in a browser: `$BROWSER` when set, else `open` on macOS and
//! `xdg-open` where a desktop session exists. Headless hosts get none.

/// Whether a browser can be expected here.
pub fn available() -> bool {
    std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty())
        || cfg!(target_os = "macos")
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Starts a browser on `url`; true if one was started.
pub fn open(url: &str) -> bool {
    if !available() {
        return false;
    }
    let program = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            }
            .into()
        });
    std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}
