//! The local AWS emulator (moto, pinned) for game days and tests: installed once into a
//! cached virtualenv, started on a free loopback port, stopped when dropped — and also when
//! this process dies, because moto exits as soon as its stdin pipe closes.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The pinned emulator packages (see docs/game-days.md).
pub const MOTO_PACKAGES: [&str; 3] = ["moto[s3,ssm]==5.2.5", "flask==3.1.3", "flask-cors==6.0.5"];

/// Runs moto's server, but exits when stdin reaches end of file (the parent is gone).
const LAUNCHER: &str = r#"
import os, sys, threading
def watch_parent():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
"#;

/// Why the emulator is not available.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("no cache directory: set HOME, XDG_CACHE_HOME or BREAKGLASS_MOTO_VENV")]
    NoCacheDir,
    #[error("failed to {action}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); see {log}")]
    Install {
        command: String,
        status: String,
        log: String,
    },
    #[error("moto did not become ready on port {port} within {secs} s; see {log}")]
    NotReady { port: u16, secs: u64, log: String },
}

fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> MotoError {
    let action = action.into();
    move |source| MotoError::Io { action, source }
}

/// Where the virtualenv lives: `BREAKGLASS_MOTO_VENV`, else the breakglass cache dir.
pub fn venv_dir() -> Result<PathBuf, MotoError> {
    if let Some(dir) = std::env::var_os("BREAKGLASS_MOTO_VENV").filter(|d| !d.is_empty()) {
        return Ok(dir.into());
    }
    crate::paths::cache_dir()
        .map(|d| d.join("moto-5.2.5"))
        .ok_or(MotoError::NoCacheDir)
}

/// Installs moto into the virtualenv unless already there; safe to call concurrently.
/// `progress` is told when a (slow) install starts.
pub fn ensure_installed(progress: &dyn Fn(&str)) -> Result<PathBuf, MotoError> {
    let venv = venv_dir()?;
    let ready = venv.join(".breakglass-ready");
    if ready.exists() {
        return Ok(venv);
    }
    let parent = venv.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
    let lock_path = venv.with_extension("lock");
    let lock = File::create(&lock_path).map_err(io(format!("create {}", lock_path.display())))?;
    lock.lock()
        .map_err(io(format!("lock {}", lock_path.display())))?;
    if ready.exists() {
        return Ok(venv);
    }
    progress(&format!(
        "installing the local AWS emulator (moto 5.2.5) into {} — once only, about a minute",
        venv.display()
    ));
    let log_path = venv.with_extension("install.log");
    let python = std::env::var("BREAKGLASS_PYTHON").unwrap_or_else(|_| "python3".into());
    run_logged(
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
        &log_path,
    )?;
    run_logged(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(MOTO_PACKAGES),
        &log_path,
    )?;
    File::create(&ready).map_err(io(format!("create {}", ready.display())))?;
    Ok(venv)
}

fn run_logged(command: &mut Command, log_path: &Path) -> Result<(), MotoError> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(io(format!("open {}", log_path.display())))?;
    let err_log = log.try_clone().map_err(io("duplicate a file handle"))?;
    let shown = format!("{command:?}");
    let status = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .status()
        .map_err(io(format!("run {shown}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(MotoError::Install {
            command: shown,
            status: status.to_string(),
            log: log_path.display().to_string(),
        })
    }
}

/// A running moto server on 127.0.0.1; stopped on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    // Held open: moto exits when it closes.
    _stdin: ChildStdin,
    port: u16,
    log: PathBuf,
}

impl MotoServer {
    /// Installs (if needed) and starts moto on a free loopback port; waits until it answers.
    pub fn start(progress: &dyn Fn(&str)) -> Result<MotoServer, MotoError> {
        let venv = ensure_installed(progress)?;
        let port = free_port()?;
        let log =
            std::env::temp_dir().join(format!("breakglass-moto-{}-{port}.log", std::process::id()));
        let log_file = File::create(&log).map_err(io(format!("create {}", log.display())))?;
        let mut child = Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(LAUNCHER)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(io("start moto"))?;
        let Some(stdin) = child.stdin.take() else {
            let _ = child.kill();
            return Err(MotoError::Io {
                action: "open moto's stdin".into(),
                source: std::io::Error::other("no pipe"),
            });
        };
        let mut server = MotoServer {
            child,
            _stdin: stdin,
            port,
            log,
        };
        server.wait_ready(Duration::from_secs(30))?;
        Ok(server)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), MotoError> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if http_request(self.port, "GET", "/moto-api/").is_ok_and(|s| s == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(MotoError::NotReady {
            port: self.port,
            secs: timeout.as_secs(),
            log: self.log.display().to_string(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id, for callers that want to check it is gone.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> Result<u16, MotoError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("bind a loopback port"))?;
    let port = listener
        .local_addr()
        .map_err(io("read the bound port"))?
        .port();
    Ok(port)
}

/// A minimal HTTP/1.0 request to the emulator's control API; returns the status code.
pub fn http_request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}
