//! What the process tests share: a real `tributary devnet` process, users running
//! `tributary wallet` against it, and fixed loopback ports for networks written ahead of time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// BTM's asset ID.
pub(crate) const BTM: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tributary-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first of `n` consecutive loopback ports in `range` that are all free now.
///
/// A network written ahead of time (`devnet init`, hand-written configs) needs its ports before
/// any node binds them, and a node restarted after SIGKILL needs its old port back. Ports from
/// Linux's ephemeral range (32768 and up, also where `bind(0)` lands) can be taken meanwhile
/// by any outgoing connection's local end, which made a CI run fail with "Address already in
/// use"; so `range` must lie below it, and below 31000 too, where `devnet` and `bench cluster`
/// pick their own ports (`cmd::ports::AUTO_PORTS`). Each test that calls this gets its own
/// `range` so that two tests running at once cannot pick the same ports.
pub(crate) fn free_port_run(range: std::ops::Range<u16>, n: u16) -> u16 {
    assert!(
        range.end <= 31_000,
        "fixed test ports must lie below the ports devnet picks and the ephemeral range"
    );
    let span = range.end - range.start - n;
    // Runs of `n` from the process id: tests started one after the other (pids p, p + 1) start
    // on disjoint runs rather than overlapping ones.
    let first = u16::try_from(std::process::id() % u32::from(span / n) * u32::from(n)).unwrap();
    (0..span)
        .map(|k| range.start + (first + k) % span)
        .find(|&base| (0..n).all(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).is_ok()))
        .unwrap_or_else(|| panic!("no {n} free consecutive ports in {range:?}"))
}

/// The devnet process; killed on drop so that no test leaves one behind.
pub(crate) struct Devnet {
    child: Child,
    pub(crate) startup: Value,
}

impl Devnet {
    /// Starts `tributary devnet` in `data` with `extra` arguments; waits for its startup line.
    pub(crate) fn start(data: &Path, log: &Path, extra: &[&str]) -> Devnet {
        let stderr = std::fs::File::create(log).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args([
                "devnet",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Drain the rest so the node never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|e| {
            panic!(
                "no startup line ({e}); log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        Devnet {
            child,
            startup: serde_json::from_str(&line).unwrap(),
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tributary wallet ...` as a user in `cwd` with `TRIBUTARY_TOKEN` exported runs it.
pub(crate) struct User {
    pub(crate) cwd: PathBuf,
    pub(crate) api: String,
    pub(crate) token: Option<String>,
}

impl User {
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
        cmd.arg("wallet")
            .args(args)
            .args(["--api", &self.api])
            .current_dir(&self.cwd)
            .env_remove("TRIBUTARY_TOKEN")
            .env_remove("TRIBUTARY_PASSWORD");
        if let Some(t) = &self.token {
            cmd.env("TRIBUTARY_TOKEN", t);
        }
        cmd.output().unwrap()
    }

    /// Runs a command that must succeed; its JSON output.
    pub(crate) fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tributary wallet {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tributary wallet {args:?}: output is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs a command that must fail with exit status 1 and one `error: ...` line; that line.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "tributary wallet {args:?} should fail; it printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        assert!(err.starts_with("error: ") && !err.contains('\n'), "{err}");
        assert!(out.stdout.is_empty());
        err
    }

    /// Runs a command whose JSON output the user saves to `file` (`... > file`).
    pub(crate) fn save(&self, args: &[&str], file: &str) -> Value {
        let v = self.ok(args);
        std::fs::write(self.cwd.join(file), serde_json::to_string_pretty(&v).unwrap()).unwrap();
        v
    }

    pub(crate) fn btm_balance(&self, account: &str) -> u64 {
        let v = self.ok(&["balance", "--account", account]);
        let rows = v
            .as_array()
            .unwrap_or_else(|| panic!("balance is not a list: {v}"));
        rows.iter()
            .filter(|r| r["asset_id"] == BTM)
            .map(|r| {
                assert_eq!(r["account_alias"], account, "{v}");
                r["amount"].as_u64().unwrap()
            })
            .sum()
    }

    pub(crate) fn password_file(&self, who: &str, password: &str) {
        let path = self.cwd.join(format!("{who}.pw"));
        std::fs::write(&path, format!("{password}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
}
