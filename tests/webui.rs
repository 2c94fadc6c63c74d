//! The web UI (`docs/http.md` §5): Supervisor's status page and its
//! query-string actions over plain HTTP (TCP and the unix socket), its
//! security (auth everywhere, cross-site requests refused, escaping,
//! headers), and the live page in a real browser (headless Chromium driven
//! by Selenium from `tests/webui/browser.py`, with the test virtualenv's
//! Python; `tests/run.sh` installs both).

mod common;

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use common::http::{free_port, read_response, Response, RPCINTERFACE};
use common::{wait_until, Daemon};

const SECS: fn(u64) -> Duration = Duration::from_secs;
/// The longest stopwaitsecs of the programs below.
const STOPWAIT: u64 = 2;

/// Programs every test uses: one that prints (with colours) to stdout and
/// stderr, one that ignores SIGTERM (a stop waits `stopwaitsecs`), a group
/// of two, one not started, one that cannot start, one with a health check.
const PROGRAMS: &str = "[program:web]\n\
     command=sh -c 'i=0; while :; do i=$((i+1)); printf \"tick %%s \\033[31mred\\033[0m\\n\" $i; echo oops $i >&2; sleep 0.2; done'\n\
     startsecs=0\nstdout_logfile={dir}/web.log\nstderr_logfile={dir}/web.err\n\
     [program:slowstop]\ncommand=sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n\
     startsecs=0\nstopwaitsecs=2\nstopasgroup=false\nkillasgroup=true\n\
     [group:grp]\nprograms=ga,gb\n\
     [program:ga]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:gb]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:idle]\ncommand=sleep 1000\nautostart=false\n\
     [program:broken]\ncommand=/nonexistent/program\nautostart=false\nstartretries=0\n\
     [program:checked]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=true\nhealthcheck_interval=0.2\n";

/// Where a daemon's HTTP server is.
#[derive(Clone)]
enum At {
    Tcp(u16),
    Unix(PathBuf),
}

struct Ui {
    daemon: Daemon,
    at: At,
    auth: Option<(String, String)>,
}

/// A daemon serving the UI on TCP (with `auth`, and `extra` lines in its
/// `[inet_http_server]`) or on a unix socket only.
fn start(tcp: bool, auth: Option<(&str, &str)>, extra: &str, programs: &str) -> Ui {
    let creds = auth
        .map(|(u, p)| format!("username={u}\npassword={p}\n"))
        .unwrap_or_default();
    let (section, at) = if tcp {
        let port = free_port();
        (
            format!("[inet_http_server]\nport=127.0.0.1:{port}\n{creds}{extra}"),
            None,
        )
    } else {
        (
            format!("[unix_http_server]\nfile={{dir}}/sv.sock\n{creds}{extra}"),
            Some(()),
        )
    };
    let daemon = Daemon::start(&format!("{section}{RPCINTERFACE}{programs}"));
    let at = match (tcp, at) {
        (true, _) => At::Tcp(
            section
                .split("127.0.0.1:")
                .nth(1)
                .and_then(|r| r.lines().next())
                .and_then(|p| p.parse().ok())
                .unwrap(),
        ),
        _ => At::Unix(daemon.path("sv.sock")),
    };
    let ui = Ui {
        daemon,
        at,
        auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
    };
    wait_until("the HTTP server", SECS(10), || {
        ui.request("GET", "/ok.html", &[], "")
            .is_ok_and(|r| r.status == 200)
    });
    ui
}

impl Ui {
    /// One request on a fresh connection; `headers` are full lines.
    fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[&str],
        body: &str,
    ) -> std::io::Result<Response> {
        self.request_as(self.auth.as_ref(), method, target, headers, body)
    }

    /// [`Ui::request`] with other credentials (or none).
    fn request_as(
        &self,
        auth: Option<&(String, String)>,
        method: &str,
        target: &str,
        headers: &[&str],
        body: &str,
    ) -> std::io::Result<Response> {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some((user, password)) = auth {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            head.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head.push_str(body);
        let timeout = Some(SECS(20));
        match &self.at {
            At::Tcp(port) => {
                let mut s = TcpStream::connect(("127.0.0.1", *port))?;
                s.set_read_timeout(timeout)?;
                s.write_all(head.as_bytes())?;
                read_response(&mut BufReader::new(s))
            }
            At::Unix(path) => {
                let mut s = UnixStream::connect(path)?;
                s.set_read_timeout(timeout)?;
                s.write_all(head.as_bytes())?;
                read_response(&mut BufReader::new(s))
            }
        }
    }

    fn get(&self, target: &str) -> Response {
        self.request("GET", target, &[], "").unwrap()
    }

    /// The state of `name` in the no-JS status table.
    fn state_in_page(&self, name: &str) -> Option<String> {
        let page = self.get("/").text();
        let link = format!(">{name}</a>");
        let row = page.lines().find(|l| l.contains(&link))?;
        let start = row.find("<span class=\"status")?;
        let rest = &row[start..];
        let text = &rest[rest.find('>')? + 1..];
        Some(text[..text.find('<')?].to_string())
    }

    fn wait_state(&self, name: &str, state: &str) {
        wait_until(&format!("{name} {state}"), SECS(20), || {
            self.state_in_page(name).as_deref() == Some(state)
        });
    }
}

fn assert_redirect(r: &Response, message: &str, what: &str) {
    assert_eq!(r.status, 301, "{what}: {}", r.text());
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with("index.html?message="),
        "{what}: a relative Location, got {location:?}"
    );
    let quoted = location.trim_start_matches("index.html?message=");
    let decoded = quoted.replace("%20", " ").replace("%3A", ":");
    assert!(
        decoded.starts_with(message),
        "{what}: message {decoded:?} should start with {message:?}"
    );
}

/// The no-JS path: every query-string action of Supervisor's page, GET
/// and POST, with their messages and relative redirects.
fn query_string_actions(ui: &Ui) {
    ui.wait_state("grp:ga", "running");
    let page = ui.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html;charset=utf-8"));
    let text = page.text();
    assert!(text.contains("<title>Supervisor Status</title>"));
    for name in ["web", "slowstop", "grp:ga", "grp:gb", "idle", "broken"] {
        assert!(text.contains(&format!(">{name}</a>")), "{name} listed");
    }
    assert!(text.contains("href=\"index.html?processname=grp%3Aga&amp;action=stop\""));
    assert!(text.contains("href=\"logtail/grp%3Aga/stderr\""));
    assert_eq!(ui.get("/index.html").status, 200);

    let r = ui.get("/index.html?processname=grp%3Aga&action=stop");
    assert_redirect(&r, "Process grp:ga stopped", "GET stop");
    assert_eq!(ui.state_in_page("grp:ga").as_deref(), Some("stopped"));

    // POST with a form body; body fields override the query string.
    let r = ui
        .request(
            "POST",
            "/index.html?action=stop",
            &["Content-Type: application/x-www-form-urlencoded"],
            "processname=grp%3Aga&action=start",
        )
        .unwrap();
    assert_redirect(&r, "Process grp:ga started", "POST start");
    assert_eq!(ui.state_in_page("grp:ga").as_deref(), Some("running"));

    let r = ui.get("/?processname=grp%3Aga&action=restart");
    assert_redirect(&r, "Process grp:ga restarted", "restart");
    let r = ui.get("/?processname=web&action=clearlog");
    assert_redirect(&r, "Log for web cleared", "clearlog");
    let r = ui.get("/?processname=nosuch&action=start");
    assert_redirect(&r, "No such process named nosuch", "unknown process");
    let r = ui.get("/?processname=grp%3Aga&action=start");
    assert_redirect(&r, "ERROR: Process grp:ga: already started", "start twice");
    let r = ui.get("/?processname=broken&action=start");
    assert_redirect(&r, "ERROR: Process broken: ", "start broken");
    let r = ui.get("/?action=refresh");
    assert_redirect(&r, "Page refreshed at ", "refresh");
    assert_eq!(ui.get("/?action=nosuch").status, 500, "unknown action");
    assert_eq!(ui.get("/?action=stop").status, 500, "stop without a name");

    // The message comes back escaped.
    let page = ui
        .get("/index.html?message=%3Cscript%3Ealert(1)%3C/script%3E")
        .text();
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));

    // tail.html: the end of stdout, escaped; a Refresh link with the limit.
    wait_until("web's output", SECS(10), || {
        ui.get("/tail.html?processname=web").text().contains("tick")
    });
    let tail = ui.get("/tail.html?processname=web&limit=2048").text();
    assert!(tail.contains("<title>Supervisor tail of process web</title>"));
    assert!(tail.contains("tail.html?processname=web&amp;limit=2048"));
    let none = ui.get("/tail.html").text();
    assert!(none.contains("No process name found"));
    let bad = ui.get("/tail.html?processname=nosuch").text();
    assert!(
        bad.contains("ERROR: unexpected rpc fault [10] BAD_NAME: nosuch"),
        "{bad}"
    );

    let r = ui.get("/?action=stopall");
    assert_redirect(&r, "All stopped at ", "stopall");
    assert_eq!(ui.state_in_page("web").as_deref(), Some("stopped"));
    let r = ui.get("/?action=restartall");
    assert_redirect(&r, "All restarted at ", "restartall");
    assert_eq!(ui.state_in_page("web").as_deref(), Some("running"));
}

#[test]
fn no_js_status_page_and_query_string_actions_over_tcp() {
    let mut ui = start(true, None, "", PROGRAMS);
    query_string_actions(&ui);
    assert!(ui.daemon.shutdown().success());
}

#[test]
fn no_js_status_page_and_query_string_actions_over_a_unix_socket() {
    let mut ui = start(false, None, "", PROGRAMS);
    query_string_actions(&ui);
    assert!(ui.daemon.shutdown().success());
}

#[test]
fn security_headers_on_pages_assets_and_json() {
    let mut ui = start(true, None, "", PROGRAMS);
    for path in [
        "/",
        "/tail.html?processname=web",
        "/ui/app.js",
        "/ui/app.css",
        "/ui/api/status",
    ] {
        let r = ui.get(path);
        assert_eq!(r.status, 200, "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // nosniff everywhere: an error page, XML-RPC, ok.html.
    assert_eq!(
        ui.get("/nosuch").header("x-content-type-options"),
        Some("nosniff")
    );
    assert_eq!(
        ui.get("/ok.html").header("x-content-type-options"),
        Some("nosniff")
    );
    // No inline script in the pages (the CSP would block it anyway).
    let page = ui.get("/").text();
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("<script src=\"ui/app.js\"></script>"));
    // Assets revalidate with their ETag.
    let js = ui.get("/ui/app.js");
    let etag = js.header("etag").unwrap().to_string();
    let again = ui
        .request(
            "GET",
            "/ui/app.js",
            &[&format!("If-None-Match: {etag}")],
            "",
        )
        .unwrap();
    assert_eq!(again.status, 304);
    assert!(ui.daemon.shutdown().success());
}

/// Regression (Supervisor #19): a page of another site could make the
/// browser stop everything. Its requests are refused; programs that send
/// no Origin (supervisorctl, scripts) are not.
#[test]
fn cross_site_requests_are_refused() {
    let mut ui = start(true, None, "", PROGRAMS);
    ui.wait_state("web", "running");
    let form = "Content-Type: application/x-www-form-urlencoded";
    let evil = "Origin: http://evil.example";
    let r = ui
        .request("POST", "/index.html", &[form, evil], "action=stopall")
        .unwrap();
    assert_eq!(r.status, 403, "cross-site POST of the status page");
    let r = ui
        .request(
            "GET",
            "/index.html?action=stopall",
            &["Sec-Fetch-Site: cross-site"],
            "",
        )
        .unwrap();
    assert_eq!(r.status, 403, "cross-site GET action");
    let r = ui
        .request(
            "POST",
            "/ui/api/action",
            &[form, evil, "X-Supervisor-UI: 1"],
            "action=stopall",
        )
        .unwrap();
    assert_eq!(r.status, 403, "cross-site POST of the JSON API");
    let r = ui
        .request("POST", "/ui/api/action", &[form], "action=stopall")
        .unwrap();
    assert_eq!(r.status, 403, "an action without the page's header");
    let rpc = common::call_body("supervisor.stopAllProcesses", &[]);
    let r = ui
        .request("POST", "/RPC2", &["Content-Type: text/plain", evil], &rpc)
        .unwrap();
    assert_eq!(r.status, 403, "cross-site XML-RPC");
    assert_eq!(
        ui.state_in_page("web").as_deref(),
        Some("running"),
        "nothing stopped"
    );

    // The same requests from the page itself, or from a program, work.
    let own = "Origin: http://localhost";
    let r = ui
        .request(
            "POST",
            "/ui/api/action",
            &[form, own, "X-Supervisor-UI: 1"],
            "action=stop&name=web",
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains("\"ok\":true"), "{}", r.text());
    let r = ui
        .request(
            "POST",
            "/RPC2",
            &["Content-Type: text/xml"],
            &common::call_body("supervisor.getState", &[]),
        )
        .unwrap();
    assert_eq!(r.status, 200, "XML-RPC without Origin");
    assert!(ui.daemon.shutdown().success());
}

#[test]
fn refuse_get_actions_keeps_actions_to_posts() {
    let mut ui = start(true, None, "refuse_get_actions=true\n", PROGRAMS);
    ui.wait_state("web", "running");
    assert!(
        !ui.daemon.log_text().contains("Unknown key"),
        "refuse_get_actions is a known key:\n{}",
        ui.daemon.log_text()
    );
    let r = ui.get("/index.html?processname=web&action=stop");
    assert_eq!(r.status, 403);
    assert!(r.text().contains("refuse_get_actions"));
    assert_eq!(ui.state_in_page("web").as_deref(), Some("running"));
    // Refresh changes nothing and still works; so do POSTs.
    assert_eq!(ui.get("/?action=refresh").status, 301);
    let r = ui
        .request(
            "POST",
            "/index.html",
            &["Content-Type: application/x-www-form-urlencoded"],
            "processname=web&action=stop",
        )
        .unwrap();
    assert_redirect(&r, "Process web stopped", "POST stop");
    assert!(ui.daemon.shutdown().success());
}

#[test]
fn auth_is_required_on_every_path() {
    let mut ui = start(true, Some(("user", "s3cret")), "", PROGRAMS);
    for path in [
        "/",
        "/index.html",
        "/index.html?action=stopall",
        "/tail.html?processname=web",
        "/ui/app.js",
        "/ui/app.css",
        "/ui/api/status",
        "/ui/api/log?name=web",
        "/logtail/web",
        "/mainlogtail",
        "/ok.html",
        "/nosuch",
    ] {
        let r = ui.request_as(None, "GET", path, &[], "").unwrap();
        assert_eq!(r.status, 401, "GET {path} without credentials");
        assert_ne!(ui.get(path).status, 401, "GET {path} with credentials");
    }
    let r = ui
        .request_as(
            None,
            "POST",
            "/ui/api/action",
            &["X-Supervisor-UI: 1"],
            "action=stopall",
        )
        .unwrap();
    assert_eq!(r.status, 401);
    assert!(ui.daemon.shutdown().success());
}

#[test]
fn json_view_and_log_slices() {
    let mut ui = start(true, None, "", PROGRAMS);
    ui.wait_state("web", "running");
    let status = ui.get("/ui/api/status").text();
    for needle in [
        "\"version\":\"4.3.0\"",
        "\"state\":\"RUNNING\"",
        "\"name\":\"slowstop\"",
        "\"hostname\":",
    ] {
        assert!(status.contains(needle), "{needle} in {status}");
    }
    wait_until("some output", SECS(10), || {
        ui.get("/ui/api/log?name=web&max=100")
            .text()
            .contains("tick")
    });
    let whole = ui.get("/ui/api/log?name=web&at=0&max=1000000").text();
    assert!(whole.contains("\"start\":0"), "{whole}");
    let tail = ui.get("/ui/api/log?name=web&max=10").text();
    assert!(tail.contains("\"size\":"), "{tail}");
    let before = ui.get("/ui/api/log?name=web&before=10&max=5").text();
    assert!(before.contains("\"start\":5,\"end\":10"), "{before}");
    let past = ui.get("/ui/api/log?name=web&at=999999999").text();
    assert!(past.contains("\"reset\":true"), "{past}");
    let err = ui.get("/ui/api/log?name=web&channel=stderr").text();
    assert!(err.contains("oops"), "{err}");
    assert_eq!(ui.get("/ui/api/log?name=nosuch").status, 404);
    assert_eq!(ui.get("/ui/api/log").status, 200, "the main log");
    assert!(ui.daemon.shutdown().success());
}

// ------------------------------------------------------------ the browser

/// The Selenium that tests/run.sh installs too.
const SELENIUM: &str = "selenium==4.27.1";

fn root_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// The venv's Python with Selenium, and Chromium with its driver.
fn browser_ready() -> PathBuf {
    let python = common::python_venv().join("bin/python");
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: tests/run.sh installs it"
        );
    }
    let has_selenium = || {
        Command::new(&python)
            .args(["-c", "import selenium"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_selenium() {
        // As tests/run.sh does, once, under a lock (tests run in parallel).
        let lock = root_target().join("webui-selenium.lock");
        let lock = std::fs::File::create(lock).unwrap();
        let _guard = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .unwrap();
        if !has_selenium() {
            let pip = python.with_file_name("pip");
            let _ = Command::new(pip)
                .args(["install", "--quiet", SELENIUM])
                .status();
        }
    }
    assert!(
        has_selenium(),
        "could not install {SELENIUM} into the test virtualenv"
    );
    python
}

/// Run `browser.py <scenario>` against `base`; screenshots go to
/// `target/webui-shots/<label>`. Returns its stdout.
fn run_browser(scenario: &str, base: &str, auth: Option<(&str, &str)>, label: &str) -> String {
    let python = browser_ready();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/webui-shots").join(label);
    std::fs::create_dir_all(&shots).unwrap();
    // Chromium's profile and temp files stay in a directory of this test.
    let tmp = tempfile::tempdir().unwrap();
    let (user, password) = auth.unwrap_or(("", ""));
    let out = Command::new(python)
        .arg(root.join("tests/webui/browser.py"))
        .args([scenario, base, user, password])
        .arg(&shots)
        .arg(STOPWAIT.to_string())
        .env("TMPDIR", tmp.path())
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "browser {scenario} failed (screenshots in {}):\n{stdout}\n{}",
        shots.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn browser_walk_over_tcp_with_auth() {
    let mut ui = start(true, Some(("user", "s3cret")), "", PROGRAMS);
    let At::Tcp(port) = ui.at else { unreachable!() };
    ui.wait_state("web", "running");
    run_browser(
        "walk",
        &format!("http://127.0.0.1:{port}"),
        Some(("user", "s3cret")),
        "tcp",
    );
    assert!(ui.daemon.shutdown().success());
}

/// A browser cannot open a unix socket, so a loopback relay stands in
/// for the reverse proxy people put in front of one.
#[test]
fn browser_walk_over_a_unix_socket() {
    let mut ui = start(false, None, "", PROGRAMS);
    let At::Unix(path) = ui.at.clone() else {
        unreachable!()
    };
    ui.wait_state("web", "running");
    let port = relay(path);
    run_browser("walk", &format!("http://127.0.0.1:{port}"), None, "unix");
    assert!(ui.daemon.shutdown().success());
}

/// Accept on a loopback port and copy each connection to and from `sock`.
fn relay(sock: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = UnixStream::connect(&sock) else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c, mut s) = (client, server);
            thread::spawn(move || {
                let _ = std::io::copy(&mut c, &mut s);
                let _ = s.shutdown(std::net::Shutdown::Write);
            });
            thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

/// The page with 500 processes: every row is there, and the time from
/// navigation start to the first complete table is printed (and bounded).
#[test]
fn browser_time_to_interactive_with_500_processes() {
    let programs: String = (0..10)
        .map(|g| {
            format!(
                "[program:p{g}]\ncommand=sleep 1000\nnumprocs=50\n\
                 process_name=%(program_name)s_%(process_num)03d\nstartsecs=0\n"
            )
        })
        .collect();
    let started = Instant::now();
    let mut ui = start(true, None, "", &programs);
    let At::Tcp(port) = ui.at else { unreachable!() };
    wait_until("500 running", SECS(60), || {
        ui.get("/ui/api/status")
            .text()
            .matches("\"RUNNING\"")
            .count()
            >= 501
    });
    let out = run_browser("tti", &format!("http://127.0.0.1:{port}"), None, "500");
    println!("{out} (setup {:?})", started.elapsed());
    let field = |name: &str| -> u64 {
        out.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {out}"))
    };
    assert_eq!(field("rows="), 500);
    assert!(field("ready_ms=") < 5000, "time to interactive: {out}");
    assert!(ui.daemon.shutdown().success());
}

/// What the live page's buttons post: signal, group actions, reread and
/// update (with `supervisorctl`'s wording), and the health a check reports.
#[test]
fn live_page_actions_signal_groups_reread_update_and_health() {
    let mut ui = start(true, None, "", PROGRAMS);
    ui.wait_state("grp:ga", "running");
    let act = |fields: &str| -> String {
        let r = ui
            .request(
                "POST",
                "/ui/api/action",
                &[
                    "Content-Type: application/x-www-form-urlencoded",
                    "Origin: http://localhost",
                    "X-Supervisor-UI: 1",
                ],
                fields,
            )
            .unwrap();
        assert_eq!(r.status, 200, "{fields}");
        r.text()
    };
    let r = act("action=signal&name=grp%3Aga&signal=CONT");
    assert!(
        r.contains(r#""ok":true"#) && r.contains("Signalled grp:ga with CONT"),
        "{r}"
    );
    let r = act("action=signal&name=grp%3Aga&signal=NOPE");
    assert!(
        r.contains(r#""ok":false"#) && r.contains("BAD_SIGNAL"),
        "{r}"
    );
    let r = act("action=stopgroup&name=grp");
    assert!(r.contains("Group grp stopped"), "{r}");
    assert_eq!(ui.state_in_page("grp:gb").as_deref(), Some("stopped"));
    let r = act("action=startgroup&name=grp");
    assert!(r.contains("Group grp started"), "{r}");
    assert_eq!(ui.state_in_page("grp:gb").as_deref(), Some("running"));
    let r = act("action=stop");
    assert!(r.contains(r#""ok":false"#), "an action without a name: {r}");

    let r = act("action=reread");
    assert!(r.contains("No config updates to processes"), "{r}");
    let mut conf = std::fs::read_to_string(&ui.daemon.conf).unwrap();
    conf.push_str("[program:late]\ncommand=sleep 1000\nstartsecs=0\n");
    std::fs::write(&ui.daemon.conf, conf).unwrap();
    let r = act("action=reread");
    assert!(r.contains("late: available"), "{r}");
    let r = act("action=update");
    assert!(r.contains("late: added process group"), "{r}");
    ui.wait_state("late", "running");

    wait_until("a healthy check", SECS(20), || {
        ui.get("/ui/api/status")
            .text()
            .contains(r#""health":"healthy""#)
    });
    assert!(ui.daemon.shutdown().success());
}

/// Regression (Supervisor #1681): Chrome sniffed the type of a `/logtail`
/// stream and showed nothing until 1 KiB had arrived; `nosniff` makes it
/// take `text/plain` as it is.
#[test]
fn logtail_streams_say_nosniff_for_chrome() {
    let mut ui = start(true, None, "", PROGRAMS);
    ui.wait_state("web", "running");
    let At::Tcp(port) = ui.at else { unreachable!() };
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(SECS(20))).unwrap();
    s.write_all(b"GET /logtail/web HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            std::io::Read::read(&mut s, &mut byte).unwrap(),
            1,
            "head ends"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    drop(s);
    assert!(ui.daemon.shutdown().success());
}

/// The read-only login (Supervisor #844, #1562): it sees the pages, the
/// JSON view, the logs and the reading XML-RPC methods; every change is
/// refused, on the pages and over XML-RPC alike.
#[test]
fn readonly_login_may_look_but_not_touch() {
    // The password "look", as a {SHA} hash.
    let extra = "readonly_username=viewer\n\
                 readonly_password={SHA}e09315fa02d775f3e707a7af455093a1c240583b\n";
    let mut ui = start(true, Some(("user", "s3cret")), extra, PROGRAMS);
    ui.wait_state("web", "running");
    let viewer = ("viewer".to_string(), "look".to_string());
    let as_viewer = |method: &str, target: &str, headers: &[&str], body: &str| {
        ui.request_as(Some(&viewer), method, target, headers, body)
            .unwrap()
    };
    let page = as_viewer("GET", "/", &[], "");
    assert_eq!(page.status, 200);
    assert!(page.text().contains(">web</a>"));
    assert!(
        !page.text().contains("action=stop"),
        "no action links for the viewer"
    );
    assert_eq!(
        as_viewer("GET", "/tail.html?processname=web", &[], "").status,
        200
    );
    let status = as_viewer("GET", "/ui/api/status", &[], "").text();
    assert!(status.contains("\"readonly\":true"), "{status}");
    assert!(ui
        .get("/ui/api/status")
        .text()
        .contains("\"readonly\":false"));
    assert_eq!(
        as_viewer("GET", "/ui/api/log?name=web", &[], "").status,
        200
    );

    let r = as_viewer("GET", "/index.html?processname=web&action=stop", &[], "");
    assert_eq!(r.status, 403, "a GET action");
    let form = "Content-Type: application/x-www-form-urlencoded";
    let r = as_viewer(
        "POST",
        "/index.html",
        &[form],
        "processname=web&action=stop",
    );
    assert_eq!(r.status, 403, "a POST action");
    let r = as_viewer(
        "POST",
        "/ui/api/action",
        &[form, "X-Supervisor-UI: 1"],
        "action=stop&name=web",
    );
    assert_eq!(r.status, 403, "the live page's action");
    assert_eq!(as_viewer("GET", "/?action=refresh", &[], "").status, 301);

    let xml = "Content-Type: text/xml";
    let read = common::call_body("supervisor.getAllProcessInfo", &[]);
    let r = as_viewer("POST", "/RPC2", &[xml], &read);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<name>statename</name>"));
    let stop = common::call_body(
        "supervisor.stopProcess",
        &["<value><string>web</string></value>"],
    );
    assert_eq!(as_viewer("POST", "/RPC2", &[xml], &stop).status, 403);
    let multi = "<?xml version='1.0'?><methodCall><methodName>system.multicall</methodName>\
        <params><param><value><array><data>\
        <value><struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member></struct></value>\
        <value><struct><member><name>methodName</name><value><string>supervisor.stopAllProcesses</string></value></member></struct></value>\
        </data></array></value></param></params></methodCall>";
    assert_eq!(as_viewer("POST", "/RPC2", &[xml], multi).status, 403);
    assert_eq!(
        ui.state_in_page("web").as_deref(),
        Some("running"),
        "nothing stopped"
    );

    // A wrong password is no login at all; the full login still acts.
    let wrong = ("viewer".to_string(), "nope".to_string());
    assert_eq!(
        ui.request_as(Some(&wrong), "GET", "/", &[], "")
            .unwrap()
            .status,
        401
    );
    assert_eq!(
        ui.request("POST", "/RPC2", &[xml], &stop).unwrap().status,
        200
    );
    assert!(ui.daemon.shutdown().success());
}

/// The live page as the read-only login: no buttons that would be refused.
#[test]
fn browser_readonly_login_sees_no_action_buttons() {
    let extra = "readonly_username=viewer\nreadonly_password=look\n";
    let mut ui = start(true, Some(("user", "s3cret")), extra, PROGRAMS);
    let At::Tcp(port) = ui.at else { unreachable!() };
    ui.wait_state("web", "running");
    let base = format!("http://127.0.0.1:{port}");
    run_browser("look", &base, Some(("viewer", "look")), "readonly");
    assert!(ui.daemon.shutdown().success());
}

/// Half a read-only login, or one without the main login (which would
/// leave everything open), is a config error.
#[test]
fn incomplete_readonly_logins_are_config_errors() {
    for (lines, needle) in [
        (
            "username=u\npassword=p\nreadonly_username=v\n",
            "incomplete read-only login",
        ),
        (
            "readonly_username=v\nreadonly_password=w\n",
            "no username and password",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sv.conf");
        let body = format!(
            "{}[inet_http_server]\nport=127.0.0.1:{}\n{lines}",
            common::header(dir.path(), "info"),
            free_port()
        );
        std::fs::write(&conf, body).unwrap();
        let out = Command::new(common::BIN)
            .args(["-n", "-c"])
            .arg(&conf)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{lines}: {stderr}");
        assert!(stderr.contains(needle), "{lines}: {stderr}");
    }
}
