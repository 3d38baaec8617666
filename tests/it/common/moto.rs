//! moto's AWS emulation as a child process of a test.

/// moto's server (PyPI `moto[server]`, installed by scripts/setup.sh) on a free port: S3
/// for media, KMS for a root key in AWS KMS.
pub struct Moto {
    pub base: String,
    _child: tokio::process::Child,
}

impl Moto {
    pub async fn start() -> Option<Moto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new("python3").args(["-m", "moto.server", "-p", &port.to_string()]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).kill_on_drop(true).spawn();
        let Ok(child) = child else { return Self::missing() };
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if reqwest::get(&base).await.is_ok() {
                return Some(Moto { base, _child: child });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Self::missing()
    }

    /// `None` with a note, unless `KEYPORT_REQUIRE_S3` says the run must include S3 (CI).
    fn missing() -> Option<Moto> {
        assert!(std::env::var_os("KEYPORT_REQUIRE_S3").is_none(), "KEYPORT_REQUIRE_S3 is set but moto's server did not start (pip install \"moto[server]\")");
        eprintln!("skipped: moto's server is not installed");
        None
    }
}
