//! Which database the suite runs against, and a throwaway PostgreSQL when it is PostgreSQL.
//!
//! `WEFT_TEST_STORE=postgres` runs every test on PostgreSQL (`scripts/test.sh` runs the suite
//! once per store). The server is `WEFT_TEST_POSTGRES_URL` if set; otherwise one started here
//! for this test process (initdb + pg_ctl in a temp dir, as the `postgres` user when run as
//! root), which a watchdog stops and deletes when the process exits. It listens on a Unix
//! socket in that dir only, so it needs no free TCP port (one picked by binding and dropping
//! could be taken by a parallel test first). Every server under test gets a fresh database on
//! it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

/// True when this run of the suite is on PostgreSQL.
pub(crate) fn enabled() -> bool {
    std::env::var("WEFT_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// A database URL for one server under test: a SQLite file in `dir`, or a fresh PostgreSQL
/// database.
pub(crate) async fn database_for(dir: &Path) -> String {
    if !enabled() {
        return format!("sqlite://{}?mode=rwc", dir.join("weft.db").display());
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = server_url();
    let name = format!(
        "weft_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to the test PostgreSQL");
    // The name is made here from numbers only.
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    // The same server (host, port, `?host=` socket dir), another database.
    let mut url = reqwest::Url::parse(admin).expect("the test PostgreSQL URL parses");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The admin URL of the PostgreSQL server the suite uses.
pub(crate) fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("WEFT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_throwaway(),
    })
}

fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (/usr/lib/postgresql): apt-get install postgresql, or set WEFT_TEST_POSTGRES_URL")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin")
}

/// Runs a PostgreSQL tool, as `postgres` when this process is root (initdb refuses root).
fn pg_command(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

fn start_throwaway() -> String {
    let bin = pg_bin();
    // Only the socket's file name: the server listens on no TCP port.
    let port = 5432;
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "weft-test-pg-{}-{}",
        std::process::id(),
        started % 1_000_000_000
    ));
    std::fs::create_dir_all(&dir).expect("pg dir");
    let _ = Command::new("chown")
        .args(["postgres:", dir.to_str().expect("utf-8 path")])
        .status();
    // Stops and deletes the cluster when this test process is gone, however it ends.
    let as_postgres = if is_root() {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {as_postgres}{pg_ctl} -D {dir}/data -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        pg_ctl = bin.join("pg_ctl").display(),
        dir = dir.display()
    );
    // Detached on purpose: it outlives this process to clean up after it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the PostgreSQL watchdog");
    let data = dir.join("data");
    let ok = pg_command(&bin, "initdb")
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync"])
        .stdout(Stdio::null())
        .status()
        .expect("run initdb");
    assert!(ok.success(), "initdb failed");
    let ok = pg_command(&bin, "pg_ctl")
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .arg("-w")
        .arg("-o")
        .arg(format!(
            "-c listen_addresses='' -p {port} -k {} -c max_connections=400 -c shared_buffers=64MB",
            dir.display()
        ))
        .arg("start")
        .stdout(Stdio::null())
        .status()
        .expect("run pg_ctl");
    assert!(
        ok.success(),
        "pg_ctl start failed; see {}/log",
        dir.display()
    );
    eprintln!("test PostgreSQL on the socket in {}", dir.display());
    format!(
        "postgres://postgres@localhost:{port}/postgres?host={}",
        dir.display()
    )
}
