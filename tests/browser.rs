//! The dashboard, end to end, in a real headless Chromium driven through WebDriver (chromedriver)
//! against the real server on loopback.
//!
//! Ignored by a plain `cargo test`, since they need Debian's `chromium` and `chromium-driver`;
//! `scripts/test` installs both and runs them with `--ignored`.

#[path = "support/app.rs"]
mod app;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use movierec::domain::etl::Source;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const XSS_TITLE: &str = "<img src=x onerror=alert(1)>";

/// The server on `127.0.0.1:0`, on the embedded data plus one hostile title.
async fn start_server(dir: &std::path::Path) -> app::TestApp {
    let csv = dir.join("xss.csv");
    std::fs::write(
        &csv,
        format!("title,release_date,rating\n\"{XSS_TITLE}\",1999-09-09,6.6\n"),
    )
    .expect("csv");
    app::spawn_app(&[Source::File(csv)], |_| {}).await
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free loopback port, and a session in a fresh headless Chromium profile.
async fn start_browser(profile: &std::path::Path) -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Driver)
        .expect("chromedriver is not installed: run scripts/test, which installs chromium and chromium-driver");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.display()),
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object literal")
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) if Instant::now() > deadline => panic!("cannot start a Chromium session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Evaluates `script` until it returns something truthy (or fails the test after 10 s).
async fn eventually(client: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = client.execute(script, vec![]).await.unwrap_or(Value::Null);
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value.as_u64() != Some(0)
            && value.as_str() != Some("");
        if truthy {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GETs a JSON document from the API under test.
async fn api_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json")
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.expect("script runs")
}

/// chromedriver's log endpoint: what the page wrote to the console (errors, CSP violations, 404s).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

async fn console_errors(client: &Client) -> Vec<String> {
    let log = client.issue_cmd(BrowserLog).await.expect("browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

fn table_titles_script(table: &str) -> String {
    format!("return [...document.querySelectorAll('#{table} tbody tr td:nth-child(2)')].map(td => td.textContent)")
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run scripts/test"]
async fn dashboard_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let base = server.base.clone();
    let (_driver, client) = start_browser(&dir.path().join("profile")).await;
    let http = reqwest::Client::new();

    // Recommend page: search a title and pick it from the suggestions, with the keyboard.
    client.goto(&format!("{base}/")).await.expect("open /");
    let search = client
        .wait()
        .for_element(Locator::Id("title-search"))
        .await
        .expect("search box");
    search.send_keys("titanic").await.expect("type");
    eventually(&client, "a suggestion", "return [...document.querySelectorAll('#suggestions button')].some(b => b.textContent === 'Titanic (1997)')").await;
    let pick = client
        .find(Locator::XPath(
            "//ul[@id='suggestions']//button[text()='Titanic (1997)']",
        ))
        .await
        .expect("suggestion");
    let titanic: i64 = pick
        .attr("data-id")
        .await
        .expect("attr")
        .and_then(|v| v.parse().ok())
        .expect("movie id");
    pick.click().await.expect("pick");
    eventually(
        &client,
        "10 recommendations",
        "return document.querySelectorAll('#recs tbody tr').length === 10",
    )
    .await;

    // Move the slider from 10 to 15 with the keyboard: the table follows without a reload.
    js(&client, "document.getElementById('n').focus()").await;
    let slider = client.find(Locator::Id("n")).await.expect("slider");
    for _ in 0..5 {
        slider.send_keys("\u{E014}").await.expect("arrow right");
    }
    eventually(
        &client,
        "15 recommendations",
        "return document.querySelectorAll('#recs tbody tr').length === 15",
    )
    .await;
    let expected: Value =
        api_json(&http, &format!("{base}/api/movies/{titanic}/similar?n=15")).await;
    let want: Vec<&str> = expected["recommendations"]
        .as_array()
        .expect("recs")
        .iter()
        .map(|r| r["title"].as_str().expect("title"))
        .collect();
    let shown = js(&client, &table_titles_script("recs")).await;
    let shown: Vec<&str> = shown
        .as_array()
        .expect("titles")
        .iter()
        .map(|t| t.as_str().expect("text"))
        .collect();
    assert_eq!(
        shown, want,
        "the table holds exactly the API's 15, in order"
    );
    let url = client.current_url().await.expect("url");
    assert!(
        url.query()
            .is_some_and(|q| q.contains(&format!("id={titanic}")) && q.contains("n=15")),
        "{url}"
    );

    // The chart: the whole catalog, with the movie and its 15 recommendations highlighted.
    let highlighted = js(
        &client,
        "const c = Chart.getChart('scatter'); return c.getDatasetMeta(0).data.length + c.getDatasetMeta(1).data.length",
    )
    .await;
    assert_eq!(highlighted, 16);
    let catalog_points = js(
        &client,
        "return Chart.getChart('scatter').getDatasetMeta(2).data.length",
    )
    .await;
    assert!(
        catalog_points.as_u64().is_some_and(|n| n > 2900),
        "{catalog_points}"
    );

    // Performance API figures, printed for the closing note (not asserted: timings are benchmarks).
    let timings = js(
        &client,
        "const nav = performance.getEntriesByType('navigation')[0];
         const fcp = performance.getEntriesByName('first-contentful-paint')[0];
         const slider = performance.getEntriesByName('movierec:slider-to-table').map(m => m.duration);
         return { dom_content_loaded_ms: nav.domContentLoadedEventEnd, first_contentful_paint_ms: fcp ? fcp.startTime : null,
                  slider_to_table_ms: slider };",
    )
    .await;
    screenshot(&client, "recommend").await;

    // A reload of the shared URL restores the view; measure time to first render on a warm load.
    client.goto(url.as_str()).await.expect("reload");
    eventually(
        &client,
        "restored view",
        "return document.querySelectorAll('#recs tbody tr').length === 15",
    )
    .await;
    let ready = eventually(
        &client,
        "ready mark",
        "const m = performance.getEntriesByName('movierec:ready')[0]; return m ? m.startTime : null",
    )
    .await;
    let fcp = js(&client, "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null").await;
    println!("dashboard timings: first load {timings}; shared-URL load: first_contentful_paint_ms={fcp} data_ready_ms={ready}");

    // Data-quality page: the last run's counts, the reject chart, the rejected rows.
    client
        .goto(&format!("{base}/quality"))
        .await
        .expect("open /quality");
    eventually(
        &client,
        "runs table",
        "return document.querySelectorAll('#runs tbody tr').length",
    )
    .await;
    eventually(
        &client,
        "rejects pager",
        "return document.getElementById('page-info').textContent",
    )
    .await;
    let runs: Value = api_json(&http, &format!("{base}/api/etl/runs")).await;
    let last = &runs["items"][0];
    let first_row = js(&client, "return [...document.querySelectorAll('#runs tbody tr:first-child td')].map(td => td.textContent)").await;
    let cells: Vec<&str> = first_row
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| c.as_str().expect("text"))
        .collect();
    assert_eq!(cells[0], format!("#{}", last["run_id"]));
    for (i, key) in [
        (4, "extracted"),
        (5, "loaded"),
        (6, "inserted"),
        (7, "updated"),
        (8, "unchanged"),
        (9, "rejected"),
    ] {
        assert_eq!(cells[i], last[key].to_string(), "{key}");
    }
    // Pick the first (embedded) run: its rejects-by-reason chart has bars.
    let first_run = client
        .find(Locator::XPath("//table[@id='runs']//button[text()='#1']"))
        .await
        .expect("run 1");
    first_run.click().await.expect("pick run 1");
    eventually(
        &client,
        "reason bars",
        "const c = Chart.getChart('reasons'); return c && c.data.labels.includes('missing')",
    )
    .await;
    let first_page: Value =
        api_json(&http, &format!("{base}/api/etl/runs/1/rejects?limit=50")).await;
    let shown = first_page["items"].as_array().map_or(0, Vec::len);
    assert!(shown > 0, "run 1 has rejects: {first_page}");
    eventually(
        &client,
        "rejected rows",
        &format!("return document.querySelectorAll('#rejects tbody tr').length === {shown}"),
    )
    .await;
    screenshot(&client, "quality").await;

    // Catalog: the hostile title is shown as text; nothing is injected, nothing runs.
    client
        .goto(&format!("{base}/catalog?q=%3Cimg"))
        .await
        .expect("open /catalog");
    eventually(
        &client,
        "search result",
        "return document.querySelectorAll('#movies tbody tr').length === 1",
    )
    .await;
    let titles = js(&client, &table_titles_script("movies")).await;
    assert_eq!(titles, json!([XSS_TITLE]));
    assert_eq!(
        js(
            &client,
            "return document.querySelectorAll('main img').length"
        )
        .await,
        0
    );
    client
        .find(Locator::LinkText(XSS_TITLE))
        .await
        .expect("title link")
        .click()
        .await
        .expect("open detail");
    eventually(&client, "detail view", "const d = document.getElementById('detail'); return d && !d.hidden && d.querySelectorAll('li').length === 10").await;
    assert!(client.get_alert_text().await.is_err(), "no alert may open");
    assert_eq!(
        js(
            &client,
            "return document.querySelectorAll('main img').length"
        )
        .await,
        0
    );
    screenshot(&client, "catalog").await;

    // A movie's detail carries its attributes and each provider's rating; the genre filter
    // narrows the table to one genre of the vocabulary.
    client
        .goto(&format!("{base}/catalog?q=titanic&genre=Thriller"))
        .await
        .expect("open /catalog by genre");
    eventually(
        &client,
        "thriller titles",
        "const rows = [...document.querySelectorAll('#movies tbody tr')]; return rows.length > 0 && rows.every((r) => r.cells[5].textContent.split('|').includes('Thriller'))",
    )
    .await;
    assert_eq!(
        js(&client, "return document.getElementById('genre').value").await,
        "Thriller"
    );
    let titanic_link = client
        .find(Locator::XPath("//table[@id='movies']//a[text()='Titanic']"))
        .await
        .expect("Titanic in the thrillers");
    titanic_link.click().await.expect("open Titanic");
    let facts = eventually(
        &client,
        "Titanic's facts",
        "const d = document.getElementById('detail'); return d && !d.hidden && d.querySelector('dl') ? d.querySelector('dl').textContent : null",
    )
    .await;
    let facts = facts.as_str().expect("text");
    assert!(facts.contains("James Cameron"), "{facts}");
    assert!(facts.contains("vega: 7.4 / 10"), "{facts}");

    // Phone width: nothing overflows sideways on the recommend page.
    client.set_window_size(390, 844).await.expect("resize");
    client.goto(url.as_str()).await.expect("open / narrow");
    eventually(
        &client,
        "narrow view",
        "return document.querySelectorAll('#recs tbody tr').length === 15",
    )
    .await;
    assert_eq!(
        js(
            &client,
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        .await,
        true
    );
    screenshot(&client, "recommend-phone").await;

    // Swagger UI works from the embedded assets under the same Content-Security-Policy.
    client.set_window_size(1280, 1000).await.expect("resize");
    client
        .goto(&format!("{base}/docs/"))
        .await
        .expect("open /docs/");
    let title = eventually(
        &client,
        "Swagger UI rendered",
        "const t = document.querySelector('.swagger-ui .info .title'); return t && t.textContent",
    )
    .await;
    assert!(
        title.as_str().is_some_and(|t| t.starts_with("movierec")),
        "{title}"
    );
    eventually(
        &client,
        "operations listed",
        "return document.querySelectorAll('.opblock').length >= 9",
    )
    .await;
    screenshot(&client, "swagger").await;

    let errors = console_errors(&client).await;
    assert!(errors.is_empty(), "browser console errors: {errors:#?}");
    client.close().await.expect("close session");
}
