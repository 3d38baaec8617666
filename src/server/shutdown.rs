//! The one shutdown signal of both servers (`keyport serve`, `keyport-sandbox`).

use std::future::Future;
use tokio::signal::unix::{signal as listen, Signal, SignalKind};

/// Listens for Ctrl-C and SIGTERM from the moment it is called — a signal that arrives
/// while the server is still starting (after it listens, before it serves) must stop it
/// cleanly, not kill it — and resolves on the first. A signal that cannot be listened for
/// is logged and never resolves, so the other one still works.
pub fn signal() -> impl Future<Output = ()> {
    let (interrupt, terminate) = (listen(SignalKind::interrupt()), listen(SignalKind::terminate()));
    async move {
        tokio::select! {
            () = received(interrupt, "Ctrl-C") => {}
            () = received(terminate, "SIGTERM") => {}
        }
    }
}

async fn received(listener: std::io::Result<Signal>, name: &str) {
    match listener {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(err) => {
            tracing::warn!(%err, "cannot listen for {name}");
            std::future::pending::<()>().await;
        }
    }
}
