//! A stand-in for a Security Server's admin UI (port 4000) in the sandbox: one plain-HTTP
//! page on a loopback port, which the sandbox's servers serve on port 4000, so
//! `breakglass forward ss-prod-1 4000` reaches something a browser can show.

use std::net::SocketAddr;

use axum::response::Html;

/// The port the X-Road Security Server admin UI listens on.
pub const ADMIN_UI_PORT: u16 = 4000;

/// The page: what it is, and that nothing real is behind it.
const PAGE: &str = "<!doctype html><title>GAME DAY / SANDBOX admin UI</title>\
<h1>GAME DAY / SANDBOX</h1>\
<p>This page stands in for the X-Road Security Server admin UI (port 4000). You reached it \
through a Session Manager port forward in the breakglass sandbox; nothing here is a real \
server.</p>";

/// The running stand-in; stops when dropped.
pub struct AdminUi {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AdminUi {
    /// Starts on a free loopback port.
    pub async fn start() -> std::io::Result<AdminUi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let app = axum::Router::new().fallback(|| async { Html(PAGE) });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(AdminUi { address, task })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for AdminUi {
    fn drop(&mut self) {
        self.task.abort();
    }
}
