//! `tributary wallet ...`: the node's wallet through its JSON API, with a small std-only HTTP/1.1
//! client (no TLS: the API listens on loopback; put a TLS proxy in front of a remote node).
//!
//! Passwords come from a file or the environment, never from a flag; the recovery mnemonic is shown
//! only when written to a file the user names.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::cli::{PasswordOpts, TransferOpts, WalletCommand, WalletOpts};

/// The environment variable holding the access token when `--token` is not given.
pub(crate) const TOKEN_ENV: &str = "TRIBUTARY_TOKEN";
/// The environment variable holding the password when `--password-file` is not given.
pub(crate) const PASSWORD_ENV: &str = "TRIBUTARY_PASSWORD";
/// BTM's asset ID.
const BTM: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
/// Longest response accepted (a long history is a few MB).
const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// Where the API is and how to authenticate.
#[derive(Debug, Clone)]
pub(crate) struct ApiClient {
    host_port: String,
    prefix: String,
    auth: Option<String>,
    timeout: Duration,
}

/// One HTTP response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// Whether the server will keep the connection open.
    pub(crate) keep_alive: bool,
}

impl ApiClient {
    /// A client for `url` (`http://host:port[/prefix]`) sending `token` (`id:secret`) if given.
    pub(crate) fn new(url: &str, token: Option<String>) -> Result<ApiClient> {
        let rest = url.trim().strip_prefix("http://").ok_or_else(|| {
            if url.starts_with("https://") {
                anyhow!("--api {url}: https is not supported (the API listens on loopback; use a TLS proxy)")
            } else {
                anyhow!("--api {url}: expected http://HOST:PORT")
            }
        })?;
        let (host_port, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if host_port.is_empty() {
            bail!("--api {url}: no host");
        }
        let host_port = if host_port
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host_port.to_string()
        } else {
            format!("{host_port}:80")
        };
        if let Some(t) = &token
            && (t.is_empty() || t.contains(['\r', '\n']))
        {
            bail!("the access token is empty or spans lines");
        }
        Ok(ApiClient {
            host_port,
            prefix: prefix.to_string(),
            auth: token.map(|t| format!("Bearer {t}")),
            timeout: Duration::from_secs(120),
        })
    }

    /// Opens a connection to the API.
    pub(crate) fn connect(&self) -> Result<Connection> {
        let addrs: Vec<_> = self
            .host_port
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", self.host_port))?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout))?;
                    s.set_write_timeout(Some(self.timeout))?;
                    // Small requests and answers: do not wait to fill packets.
                    s.set_nodelay(true)?;
                    return Ok(Connection {
                        client: self.clone(),
                        reader: BufReader::new(s),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(anyhow!(
            "cannot reach the node's API at http://{}: {} (is the node running? see --api)",
            self.host_port,
            last.map_or_else(|| "no address".to_string(), |e| e.to_string())
        ))
    }

    /// Calls one endpoint of the JSON API on a fresh connection and returns its `data`.
    pub(crate) fn call(&self, endpoint: &str, body: &Value) -> Result<Value> {
        let response = self.connect()?.post(endpoint, body.to_string().as_bytes())?;
        data_of(endpoint, &response)
    }
}

/// The `data` of a success answer, or the API's error as one line.
pub(crate) fn data_of(endpoint: &str, response: &Response) -> Result<Value> {
    let Ok(v) = serde_json::from_slice::<Value>(&response.body) else {
        let text = String::from_utf8_lossy(&response.body);
        bail!(
            "{endpoint}: HTTP {} with a body that is not JSON: {}",
            response.status,
            text.chars().take(200).collect::<String>()
        );
    };
    if response.status == 200 && v["status"] == "success" {
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    let msg = v["msg"].as_str().unwrap_or("request failed");
    let detail = match v["error_detail"].as_str() {
        Some(d) if !d.is_empty() && d != msg => format!(": {d}"),
        _ => String::new(),
    };
    let code = v["code"].as_str().unwrap_or("no code");
    bail!("{endpoint}: {msg}{detail} ({code}, HTTP {})", response.status)
}

/// One open HTTP/1.1 connection (kept alive while the server allows).
#[derive(Debug)]
pub(crate) struct Connection {
    client: ApiClient,
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// POSTs `body` to `/endpoint` and reads the whole answer.
    pub(crate) fn post(&mut self, endpoint: &str, body: &[u8]) -> Result<Response> {
        self.send(endpoint, body)?;
        self.receive()
    }

    /// Sends one POST without waiting for its answer (HTTP/1.1 pipelining: answers come in order).
    pub(crate) fn send(&mut self, endpoint: &str, body: &[u8]) -> Result<()> {
        let c = &self.client;
        let mut head = format!(
            "POST {}/{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            c.prefix,
            endpoint.trim_start_matches('/'),
            c.host_port,
            body.len()
        );
        if let Some(a) = &c.auth {
            head.push_str("Authorization: ");
            head.push_str(a);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body))
            .and_then(|()| stream.flush())
            .with_context(|| format!("cannot send the request to http://{}", c.host_port))
    }

    /// Reads the next answer.
    pub(crate) fn receive(&mut self) -> Result<Response> {
        read_response(&mut self.reader)
            .with_context(|| format!("bad answer from http://{}", self.client.host_port))
    }
}

fn read_line(reader: &mut BufReader<TcpStream>) -> Result<String> {
    let mut line = String::new();
    let n = reader.by_ref().take(16 << 10).read_line(&mut line)?;
    if n == 0 {
        bail!("the connection closed early");
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_response(reader: &mut BufReader<TcpStream>) -> Result<Response> {
    let status_line = read_line(reader)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| anyhow!("not an HTTP/1.x status line: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut keep_alive = version == "HTTP/1.1";
    for _ in 0..200 {
        let line = read_line(reader)?;
        if line.is_empty() {
            let body = if chunked {
                read_chunked(reader)?
            } else if let Some(n) = length {
                if n > MAX_RESPONSE_BYTES {
                    bail!("answer of {n} bytes is too large");
                }
                let mut body = Vec::new();
                reader.by_ref().take(n).read_to_end(&mut body)?;
                if body.len() as u64 != n {
                    bail!("the connection closed inside the body");
                }
                body
            } else {
                keep_alive = false;
                let mut body = Vec::new();
                reader.by_ref().take(MAX_RESPONSE_BYTES).read_to_end(&mut body)?;
                body
            };
            return Ok(Response {
                status,
                body,
                keep_alive,
            });
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("bad header line {line:?}");
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = Some(value.parse::<u64>().context("bad Content-Length")?),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    bail!("too many header lines")
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = u64::from_str_radix(line.split(';').next().unwrap_or_default().trim(), 16)
            .with_context(|| format!("bad chunk size {line:?}"))?;
        if size == 0 {
            // Trailers, then the blank line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        if body.len() as u64 + size > MAX_RESPONSE_BYTES {
            bail!("answer too large");
        }
        let start = body.len();
        reader.by_ref().take(size).read_to_end(&mut body)?;
        if (body.len() - start) as u64 != size {
            bail!("the connection closed inside a chunk");
        }
        read_line(reader)?;
    }
}

/// The password: the first line of `--password-file`, else `TRIBUTARY_PASSWORD`.
fn password(opts: &PasswordOpts) -> Result<String> {
    let pw = match &opts.password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?;
            text.lines().next().unwrap_or_default().to_string()
        }
        None => std::env::var(PASSWORD_ENV).map_err(|_| {
            anyhow!("a password is needed: --password-file FILE or the {PASSWORD_ENV} environment variable")
        })?,
    };
    if pw.is_empty() {
        bail!("the password is empty");
    }
    Ok(pw)
}

fn is_hex_of(text: &str, bytes: usize) -> bool {
    text.len() == bytes * 2 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Writes a new private file (mode 0600); refuses to overwrite.
fn write_private_new(path: &Path, contents: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(contents.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The `build-transaction` body of a transfer: the sender pays the amount plus the fee (in BTM), the
/// wallet adds change.
fn transfer_request(t: &TransferOpts) -> Result<Value> {
    let asset = t.asset.as_deref().unwrap_or(BTM).to_ascii_lowercase();
    if !is_hex_of(&asset, 32) {
        bail!("--asset {asset}: expected an asset ID of 64 hex characters");
    }
    if t.amount == 0 {
        bail!("--amount must be positive");
    }
    if t.to.trim().is_empty() {
        bail!("--to: empty address");
    }
    let mut actions = Vec::new();
    if asset == BTM {
        let total = t
            .amount
            .checked_add(t.fee)
            .filter(|n| *n <= i64::MAX as u64)
            .ok_or_else(|| anyhow!("--amount plus --fee exceeds 2^63-1"))?;
        actions.push(
            json!({"type": "spend_account", "account_alias": t.from, "asset_id": BTM, "amount": total}),
        );
    } else {
        actions.push(
            json!({"type": "spend_account", "account_alias": t.from, "asset_id": asset, "amount": t.amount}),
        );
        if t.fee > 0 {
            actions.push(
                json!({"type": "spend_account", "account_alias": t.from, "asset_id": BTM, "amount": t.fee}),
            );
        }
    }
    actions.push(
        json!({"type": "control_address", "address": t.to.trim(), "asset_id": asset, "amount": t.amount}),
    );
    Ok(json!({"base_transaction": null, "actions": actions, "ttl": 0, "time_range": 0}))
}

/// The `create-asset` definition: the given JSON object (or `{}`) with the class as its `"bap"` member.
fn asset_definition(class: &str, definition: Option<&str>) -> Result<Value> {
    let code = match class.trim().to_ascii_lowercase().as_str() {
        "bap-01" | "bap01" | "1" => "BAP-01",
        "bap-02" | "bap02" | "2" => "BAP-02",
        "bap-03" | "bap03" | "3" => "BAP-03",
        "bap-04" | "bap04" | "4" => "BAP-04",
        other => bail!("--class {other}: expected bap-01, bap-02, bap-03 or bap-04"),
    };
    let mut def = match definition {
        None => json!({}),
        Some(text) => serde_json::from_str::<Value>(text).context("--definition: not JSON")?,
    };
    let obj = def
        .as_object_mut()
        .ok_or_else(|| anyhow!("--definition: expected a JSON object"))?;
    match obj.get("bap") {
        Some(Value::String(b)) if b == code => {}
        Some(other) => bail!("--definition declares \"bap\": {other}, which contradicts --class {code}"),
        None => {
            // BAP-01 is the default class: leave the definition as written.
            if code != "BAP-01" {
                obj.insert("bap".into(), json!(code));
            }
        }
    }
    Ok(def)
}

/// The `build-transaction` body of an issuance to `to`, with an optional BTM fee from an account.
fn issue_request(asset: &str, amount: u64, to: &str, fee_from: Option<&str>, fee: u64) -> Result<Value> {
    if amount == 0 {
        bail!("--amount must be positive");
    }
    if to.trim().is_empty() {
        bail!("--to: empty address");
    }
    let asset = asset.trim();
    let key = if is_hex_of(&asset.to_ascii_lowercase(), 32) {
        json!({"asset_id": asset.to_ascii_lowercase()})
    } else {
        json!({"asset_alias": asset})
    };
    let mut issue = json!({"type": "issue", "amount": amount});
    let mut out = json!({"type": "control_address", "address": to.trim(), "amount": amount});
    for (k, v) in key.as_object().into_iter().flatten() {
        issue[k] = v.clone();
    }
    let mut actions = vec![issue];
    match (fee_from, fee) {
        (_, 0) => {}
        (Some(from), fee) => actions
            .push(json!({"type": "spend_account", "account_alias": from, "asset_id": BTM, "amount": fee})),
        (None, _) => bail!("--fee needs --fee-from ACCOUNT"),
    }
    // The output names the asset by ID; the node resolves an alias for the issue action only.
    out["asset_id"] = key.get("asset_id").cloned().unwrap_or(Value::Null);
    actions.push(out);
    Ok(json!({"base_transaction": null, "actions": actions, "ttl": 0, "time_range": 0}))
}

/// A template from a file holding either a template (`build`) or a `sign` answer.
fn read_template(path: &Path) -> Result<(Value, Option<bool>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the template {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("the template {} is not JSON", path.display()))?;
    let (template, complete) = if v.get("transaction").is_some_and(Value::is_object) {
        (v["transaction"].clone(), v["sign_complete"].as_bool())
    } else {
        (v, None)
    };
    if !template["raw_transaction"].is_string() {
        bail!(
            "{} is not a transaction template (no raw_transaction); save the output of `wallet build` or `wallet sign`",
            path.display()
        );
    }
    Ok((template, complete))
}

/// Signatures present in a template.
fn signature_count(template: &Value) -> usize {
    let none = Vec::new();
    let list = |v: &Value| v.as_array().unwrap_or(&none).clone();
    list(&template["signing_instructions"])
        .iter()
        .flat_map(|si| list(&si["witness_components"]))
        .flat_map(|c| list(&c["signatures"]))
        .filter(|s| s.as_str().is_some_and(|s| !s.is_empty()))
        .count()
}

/// A wallet on this machine (`--wallet-dir`): a co-signer's own keystore, for the sidechain the node
/// runs (the only one it supports today).
fn local_wallet(dir: &Path) -> Result<::wallet::Wallet> {
    ::wallet::Wallet::open(
        dir,
        types::profile::Profile::Side,
        types::profile::Network::Devnet,
        ::wallet::KdfParams::default(),
    )
    .with_context(|| format!("cannot open the wallet in {}", dir.display()))
}

/// Resolves `--key` values: extended public keys pass through, anything else is a key alias.
fn resolve_keys(api: &ApiClient, keys: &[String]) -> Result<Vec<String>> {
    let mut listed: Option<Value> = None;
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.trim();
        if is_hex_of(k, 64) {
            out.push(k.to_ascii_lowercase());
            continue;
        }
        if listed.is_none() {
            listed = Some(api.call("list-keys", &json!({}))?);
        }
        let found = listed
            .as_ref()
            .and_then(Value::as_array)
            .and_then(|keys| keys.iter().find(|x| x["alias"] == k))
            .and_then(|x| x["xpub"].as_str())
            .ok_or_else(|| anyhow!("--key {k}: no key with this alias (and not a 128-hex-character xpub)"))?;
        out.push(found.to_string());
    }
    Ok(out)
}

/// How long `--wait` waits.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Waits until `tx_id` is in a block and, where the node reports it (`wallet-info`), until the
/// wallet has processed that block, so that balances read next include it. Returns the height.
fn wait_included(api: &ApiClient, tx_id: &Value) -> Result<u64> {
    let tx_id = tx_id
        .as_str()
        .ok_or_else(|| anyhow!("the node returned no tx_id"))?;
    let started = std::time::Instant::now();
    let body = json!({ "tx_id": tx_id }).to_string();
    let height = loop {
        let r = api.connect()?.post("get-transaction", body.as_bytes())?;
        if r.status != 404 {
            let data = data_of("get-transaction", &r)?;
            if let Some(h) = data["block_height"].as_u64() {
                break h;
            }
        }
        if started.elapsed() > WAIT_LIMIT {
            bail!("{tx_id} was not included within {} s", WAIT_LIMIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    loop {
        let r = api.connect()?.post("wallet-info", b"{}")?;
        if r.status == 404 {
            // This node does not report the wallet's progress.
            return Ok(height);
        }
        let data = data_of("wallet-info", &r)?;
        match data["wallet_height"].as_u64() {
            Some(h) if h >= height => return Ok(height),
            None => return Ok(height),
            Some(_) => {}
        }
        if started.elapsed() > WAIT_LIMIT {
            bail!(
                "the wallet did not reach block {height} within {} s",
                WAIT_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `wallet ...`.
pub(crate) fn run(opts: WalletOpts) -> Result<Value> {
    let token = opts.token.or_else(|| std::env::var(TOKEN_ENV).ok());
    let api = ApiClient::new(&opts.api, token)?;
    match opts.command {
        WalletCommand::CreateKey {
            alias,
            password: pw,
            mnemonic_file,
            wallet_dir,
        } => {
            let pw = password(&pw)?;
            // Check before the key exists, so that a bad path does not lose the only backup.
            if let Some(path) = &mnemonic_file
                && path.exists()
            {
                bail!("--mnemonic-file {}: the file exists", path.display());
            }
            let (mut data, mnemonic) = match &wallet_dir {
                Some(dir) => {
                    let (key, words) = local_wallet(dir)?
                        .create_key(&alias, &pw)
                        .context("cannot create the key")?;
                    (serde_json::to_value(key)?, Some(json!(words.as_str())))
                }
                None => {
                    let mut data = api.call("create-key", &json!({"alias": alias, "password": pw}))?;
                    let words = data.as_object_mut().and_then(|o| o.remove("mnemonic"));
                    (data, words)
                }
            };
            if let Some(path) = &mnemonic_file {
                let words = mnemonic
                    .as_ref()
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("the node returned no mnemonic"))?;
                write_private_new(path, &format!("{words}\n"))?;
                data["mnemonic_file"] = json!(path.display().to_string());
            }
            Ok(data)
        }
        WalletCommand::Keys => api.call("list-keys", &json!({})),
        WalletCommand::CreateAccount { alias, keys, quorum } => {
            let n = keys.len() as u64;
            if quorum == 0 || quorum > n {
                bail!("--quorum {quorum}: must be between 1 and the number of keys ({n})");
            }
            let xpubs = resolve_keys(&api, &keys)?;
            api.call(
                "create-account",
                &json!({"root_xpubs": xpubs, "quorum": quorum, "alias": alias}),
            )
        }
        WalletCommand::Accounts => api.call("list-accounts", &json!({})),
        WalletCommand::Receive { account } => {
            api.call("create-account-receiver", &json!({"account_alias": account}))
        }
        WalletCommand::Addresses { account } => {
            api.call("list-addresses", &json!({"account_alias": account}))
        }
        WalletCommand::Balance { account } => match account {
            Some(a) => api.call("list-balances", &json!({"account_alias": a})),
            None => api.call("list-balances", &json!({})),
        },
        WalletCommand::CreateAsset {
            alias,
            class,
            definition,
            keys,
            quorum,
        } => {
            let definition = asset_definition(&class, definition.as_deref())?;
            let xpubs = if keys.is_empty() {
                let all = api.call("list-keys", &json!({}))?;
                match all.as_array().map(Vec::as_slice) {
                    Some([only]) => vec![only["xpub"].clone()],
                    _ => bail!("the keystore holds several keys (or none): name the issuer's with --key"),
                }
            } else {
                resolve_keys(&api, &keys)?
                    .into_iter()
                    .map(Value::String)
                    .collect()
            };
            let n = xpubs.len() as u64;
            if quorum == 0 || quorum > n {
                bail!("--quorum {quorum}: must be between 1 and the number of keys ({n})");
            }
            api.call(
                "create-asset",
                &json!({"alias": alias, "root_xpubs": xpubs, "quorum": quorum, "definition": definition}),
            )
        }
        WalletCommand::Assets => api.call("list-assets", &json!({})),
        WalletCommand::Issue {
            asset,
            amount,
            to,
            fee_from,
            fee,
            password: pw,
            wait,
        } => {
            let pw = password(&pw)?;
            let mut request = issue_request(&asset, amount, &to, fee_from.as_deref(), fee)?;
            let last = request["actions"].as_array().map(Vec::len).unwrap_or(1) - 1;
            if request["actions"][last]["asset_id"].is_null() {
                // Named by alias: the output needs the ID.
                let found = api.call("list-assets", &json!({}))?;
                let id = found
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| {
                        a["alias"]
                            .as_str()
                            .is_some_and(|x| x.eq_ignore_ascii_case(asset.trim()))
                    })
                    .map(|a| a["id"].clone())
                    .ok_or_else(|| anyhow!("--asset {asset}: no such asset in the wallet"))?;
                request["actions"][last]["asset_id"] = id;
            }
            let template = api.call("build-transaction", &request)?;
            let signed = api.call(
                "sign-transaction",
                &json!({"password": pw, "transaction": template}),
            )?;
            if signed["sign_complete"] != true {
                bail!(
                    "the issuance needs more signatures than this password gives (an M-of-N asset?): \
                     use `wallet sign` once per signer on the built template, then `wallet submit`"
                );
            }
            let raw = signed["transaction"]["raw_transaction"]
                .as_str()
                .ok_or_else(|| anyhow!("sign-transaction returned no raw_transaction"))?;
            let submitted = api.call("submit-transaction", &json!({"raw_transaction": raw}))?;
            let mut out = json!({
                "tx_id": submitted["tx_id"],
                "asset": asset,
                "amount": amount,
                "to": to,
            });
            if wait {
                out["block_height"] = json!(wait_included(&api, &submitted["tx_id"])?);
            }
            Ok(out)
        }
        WalletCommand::Build { transfer } => api.call("build-transaction", &transfer_request(&transfer)?),
        WalletCommand::Send {
            transfer,
            password: pw,
            wait,
        } => {
            let pw = password(&pw)?;
            let template = api.call("build-transaction", &transfer_request(&transfer)?)?;
            let signed = api.call(
                "sign-transaction",
                &json!({"password": pw, "transaction": template}),
            )?;
            if signed["sign_complete"] != true {
                bail!(
                    "the transaction needs more signatures than this password gives (a multisig account?): \
                     use `wallet build`, then `wallet sign` once per signer, then `wallet submit`"
                );
            }
            let raw = signed["transaction"]["raw_transaction"]
                .as_str()
                .ok_or_else(|| anyhow!("sign-transaction returned no raw_transaction"))?;
            let submitted = api.call("submit-transaction", &json!({"raw_transaction": raw}))?;
            let mut out = json!({
                "tx_id": submitted["tx_id"],
                "fee": signed["transaction"]["fee"],
                "amount": transfer.amount,
                "to": transfer.to,
            });
            if wait {
                out["block_height"] = json!(wait_included(&api, &submitted["tx_id"])?);
            }
            Ok(out)
        }
        WalletCommand::Sign {
            template,
            password: pw,
            wallet_dir,
        } => {
            let pw = password(&pw)?;
            let (template, _) = read_template(&template)?;
            match &wallet_dir {
                Some(dir) => {
                    // Opening creates a wallet: a mistyped directory would sign nothing, silently.
                    if !dir.is_dir() {
                        bail!("--wallet-dir {}: no such directory", dir.display());
                    }
                    let before = signature_count(&template);
                    let mut t: ::wallet::Template =
                        serde_json::from_value(template).context("bad transaction template")?;
                    let complete = local_wallet(dir)?.sign(&mut t, &pw).context("cannot sign")?;
                    let out = json!({"transaction": t, "sign_complete": complete});
                    if !complete && signature_count(&out["transaction"]) == before {
                        bail!("no key in {} signs this transaction", dir.display());
                    }
                    Ok(out)
                }
                None => api.call(
                    "sign-transaction",
                    &json!({"password": pw, "transaction": template}),
                ),
            }
        }
        WalletCommand::Submit { template, raw, wait } => {
            let raw = match (template, raw) {
                (Some(path), _) => {
                    let (template, complete) = read_template(&path)?;
                    if complete == Some(false) {
                        bail!(
                            "{}: not fully signed yet (sign_complete is false)",
                            path.display()
                        );
                    }
                    template["raw_transaction"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }
                (None, Some(raw)) => raw.trim().to_string(),
                (None, None) => bail!("give --template FILE or --raw HEX"),
            };
            let mut out = api.call("submit-transaction", &json!({"raw_transaction": raw}))?;
            if wait {
                out["block_height"] = json!(wait_included(&api, &out["tx_id"])?);
            }
            Ok(out)
        }
        WalletCommand::History { account } => api.call(
            "list-transactions",
            &json!({"account_alias": account, "detail": true, "unconfirmed": true}),
        ),
        WalletCommand::Tx { id } => {
            let id = id.trim().to_ascii_lowercase();
            if !is_hex_of(&id, 32) {
                bail!("--id {id}: expected a transaction ID of 64 hex characters");
            }
            api.call("get-transaction", &json!({"tx_id": id}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = ApiClient::new("http://127.0.0.1:9888", None).unwrap();
        assert_eq!((c.host_port.as_str(), c.prefix.as_str()), ("127.0.0.1:9888", ""));
        let c = ApiClient::new("http://localhost/node/", Some("a:b".into())).unwrap();
        assert_eq!(
            (c.host_port.as_str(), c.prefix.as_str()),
            ("localhost:80", "/node")
        );
        assert_eq!(c.auth.as_deref(), Some("Bearer a:b"));
        assert!(ApiClient::new("https://x:1", None).is_err());
        assert!(ApiClient::new("127.0.0.1:9888", None).is_err());
        assert!(ApiClient::new("http://", None).is_err());
        assert!(ApiClient::new("http://x:1", Some("a\nb".into())).is_err());
    }

    fn transfer(amount: u64, fee: u64, asset: Option<&str>) -> TransferOpts {
        TransferOpts {
            from: "alice".into(),
            to: "sp1qxyz".into(),
            amount,
            asset: asset.map(str::to_string),
            fee,
        }
    }

    #[test]
    fn asset_definitions_carry_the_class() {
        assert_eq!(asset_definition("bap-01", None).unwrap(), json!({}));
        assert_eq!(
            asset_definition("BAP-04", Some(r#"{"name":"ticket","decimals":2}"#)).unwrap(),
            json!({"name": "ticket", "decimals": 2, "bap": "BAP-04"})
        );
        assert_eq!(
            asset_definition("bap-03", Some(r#"{"bap":"BAP-03"}"#)).unwrap(),
            json!({"bap": "BAP-03"})
        );
        assert!(asset_definition("bap-05", None).is_err());
        assert!(asset_definition("bap-02", Some(r#"{"bap":"BAP-03"}"#)).is_err());
        assert!(asset_definition("bap-02", Some("[1]")).is_err());
        assert!(asset_definition("bap-02", Some("{")).is_err());
    }

    #[test]
    fn issue_requests_name_the_asset_and_the_fee() {
        let id = "ab".repeat(32);
        let r = issue_request(&id, 5, "addr", Some("alice"), 100).unwrap();
        assert_eq!(
            r["actions"][0],
            json!({"type": "issue", "asset_id": id, "amount": 5})
        );
        assert_eq!(r["actions"][1]["asset_id"], BTM);
        assert_eq!(r["actions"][1]["amount"], 100);
        assert_eq!(r["actions"][2]["asset_id"], id);
        let r = issue_request("gold", 5, "addr", None, 0).unwrap();
        assert_eq!(r["actions"][0]["asset_alias"], "gold");
        assert_eq!(r["actions"].as_array().unwrap().len(), 2);
        assert!(issue_request("gold", 0, "addr", None, 0).is_err());
        assert!(issue_request("gold", 5, " ", None, 0).is_err());
        assert!(issue_request("gold", 5, "addr", None, 7).is_err());
    }

    #[test]
    fn transfers_pay_amount_plus_fee() {
        let r = transfer_request(&transfer(500, 20, None)).unwrap();
        let a = r["actions"].as_array().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0]["type"], "spend_account");
        assert_eq!(a[0]["amount"], 520);
        assert_eq!(a[1]["type"], "control_address");
        assert_eq!(a[1]["amount"], 500);
        assert_eq!(a[1]["address"], "sp1qxyz");
        let other = "ab".repeat(32);
        let r = transfer_request(&transfer(7, 3, Some(&other))).unwrap();
        let a = r["actions"].as_array().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(
            (a[0]["asset_id"].as_str(), &a[0]["amount"]),
            (Some(other.as_str()), &json!(7))
        );
        assert_eq!(
            (a[1]["asset_id"].as_str(), &a[1]["amount"]),
            (Some(BTM), &json!(3))
        );
        assert!(transfer_request(&transfer(0, 1, None)).is_err());
        assert!(transfer_request(&transfer(1, 1, Some("zz"))).is_err());
        assert!(transfer_request(&transfer(u64::MAX, 1, None)).is_err());
        assert!(transfer_request(&transfer(i64::MAX as u64, 1, None)).is_err());
    }

    #[test]
    fn error_answers_become_one_line() {
        let r = Response {
            status: 400,
            body: br#"{"status":"fail","code":"BTM706","msg":"insufficient funds","error_detail":"need 5"}"#
                .to_vec(),
            keep_alive: false,
        };
        let e = data_of("build-transaction", &r).unwrap_err().to_string();
        assert_eq!(
            e,
            "build-transaction: insufficient funds: need 5 (BTM706, HTTP 400)"
        );
        let r = Response {
            status: 200,
            body: br#"{"status":"success","data":{"x":1}}"#.to_vec(),
            keep_alive: true,
        };
        assert_eq!(data_of("x", &r).unwrap(), json!({"x": 1}));
        let r = Response {
            status: 502,
            body: b"<html>".to_vec(),
            keep_alive: false,
        };
        assert!(data_of("x", &r).unwrap_err().to_string().contains("HTTP 502"));
    }

    /// A one-connection server answering each request with the next canned response; returns
    /// the URL and the requests it read.
    fn canned(responses: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(s);
            let mut requests = Vec::new();
            for r in responses {
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                std::io::Read::read_exact(&mut reader, &mut body).unwrap();
                requests.push(format!("{head}{}", String::from_utf8(body).unwrap()));
                reader.get_mut().write_all(r.as_bytes()).unwrap();
            }
            requests
        });
        (url, handle)
    }

    #[test]
    fn answers_by_length_chunked_and_pipelined() {
        let (url, server) = canned(vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 33\r\n\r\n{\"status\":\"success\",\"data\":[1,2]}",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"sta\r\n1c\r\ntus\":\"success\",\"data\":\"two\"}\r\n0\r\n\r\n",
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"status\":\"fail\",\"code\":\"BTM860\",\"msg\":\"no token\"}",
        ]);
        let client = ApiClient::new(&url, Some("id:secret".into())).unwrap();
        let mut c = client.connect().unwrap();
        let r = c.post("list-keys", b"{}").unwrap();
        assert!(r.keep_alive);
        assert_eq!(data_of("list-keys", &r).unwrap(), json!([1, 2]));
        c.send("a", b"{\"x\":1}").unwrap();
        c.send("/b", b"{}").unwrap();
        assert_eq!(data_of("a", &c.receive().unwrap()).unwrap(), json!("two"));
        let r = c.receive().unwrap();
        assert!(!r.keep_alive);
        assert_eq!(
            data_of("b", &r).unwrap_err().to_string(),
            "b: no token (BTM860, HTTP 401)"
        );
        let requests = server.join().unwrap();
        assert!(
            requests[0].starts_with("POST /list-keys HTTP/1.1\r\n"),
            "{}",
            requests[0]
        );
        assert!(requests[0].contains("Authorization: Bearer id:secret\r\n"));
        assert!(requests[1].starts_with("POST /a ") && requests[1].ends_with("{\"x\":1}"));
        assert!(requests[2].starts_with("POST /b "));
    }
}
