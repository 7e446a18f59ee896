//! Command-line syntax.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tributary: a main chain, many sidechains, one multi-asset UTXO ledger.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Transactions: decode raw bytes.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Blocks: decode raw bytes.
    #[command(subcommand)]
    Block(BlockCommand),
    /// chainkd keys: generate, derive, sign, verify, addresses.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Assets: compute IDs.
    #[command(subcommand)]
    Asset(AssetCommand),
    /// The VM: run a program.
    #[command(subcommand)]
    Vm(VmCommand),
    /// Run a single-node sidechain for development: fresh data directory, funded dev account, API.
    Devnet(DevnetOpts),
    /// Run a node from a TOML configuration file.
    Node(NodeOpts),
    /// The node's wallet through its API: keys, accounts, addresses, balances, transfers, co-signing.
    Wallet(WalletOpts),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Proof of work (the main chain's Tensority).
    #[command(subcommand)]
    Pow(PowCommand),
    /// State snapshots: export a store's state with its commitment, verify a file, start a store from
    /// one (see docs/snapshots.md).
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// DPoS on a BBFT sidechain: make a validator candidate's registration (see docs/dpos.md §4).
    #[command(subcommand)]
    Dpos(DposCommand),
}

/// `tributary dpos ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DposCommand {
    /// Print the control program registering a candidate (its DPoS xpub bound to its BLS key) on
    /// the chain of a genesis block; pay it in a `control_program` action of build-transaction.
    /// Reads the private keys from files and never prints them.
    Registration(DposRegistrationOpts),
}

/// Arguments of `dpos registration`.
#[derive(Debug, Args)]
pub(crate) struct DposRegistrationOpts {
    /// The candidate's DPoS identity: a file holding a chainkd extended private key (128 hex
    /// characters), such as a `devnet init` validator's `dpos.key`.
    #[arg(long)]
    pub(crate) dpos_key_file: std::path::PathBuf,
    /// The candidate's BLS consensus key: a file holding the 32-byte secret in hex (`bls.key`).
    #[arg(long)]
    pub(crate) bls_key_file: std::path::PathBuf,
    /// The sidechain's genesis block in hex (`genesis.hex`); its hash is the chain id signed.
    #[arg(long)]
    pub(crate) genesis_file: std::path::PathBuf,
    /// The registration counter: above the candidate's last accepted one (a new key needs a
    /// higher sequence than the key it replaces).
    #[arg(long, default_value_t = 1)]
    pub(crate) sequence: u64,
}

/// `tributary snapshot ...`
#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Write the state at the tip of a data directory's store (the node must be stopped) to a file;
    /// prints the height, block hash and commitment. A BBFT sidechain's snapshot carries its
    /// election state, which needs the node's configuration: give `--config` instead of
    /// `--data-dir`.
    Export {
        /// The node's data directory (holding chain.redb).
        #[arg(long, required_unless_present = "config", conflicts_with = "config")]
        data_dir: Option<std::path::PathBuf>,
        /// The node's configuration file (BBFT chains): its store, validators and elections.
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// The snapshot file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Create the store of an empty data directory from a snapshot file, if its commitment is the
    /// one given (obtained from a node you trust).
    Import {
        /// The snapshot file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// The expected commitment, 64 hex characters.
        #[arg(long)]
        commitment: String,
        /// The new node's data directory (created if missing; must hold no chain.redb).
        #[arg(long)]
        data_dir: std::path::PathBuf,
    },
    /// Check a snapshot file (format and its recorded commitment) and print what it holds.
    Verify {
        /// The snapshot file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

/// `tributary pow ...`
#[derive(Debug, Subcommand)]
pub(crate) enum PowCommand {
    /// The Tensority result of a block hash under a seed (builds the seed's cache first, ~0.1 s).
    Tensority {
        /// The block header hash, 64 hex characters.
        #[arg(long)]
        hash: String,
        /// The seed (see docs/pow.md for which block hash seeds a height), 64 hex characters.
        #[arg(long)]
        seed: String,
    },
}

/// `tributary bench ...`
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// BBFT in the deterministic simulator: messages, bytes and finality per height for several
    /// N and M under uniform and five-region latency; `--seeds` adds a long scenario sweep.
    Consensus(crate::cmd::bench::BenchConsensusOpts),
    /// The ledger: validate+apply throughput of signed transfers on all cores, next to the batch
    /// signature-verification ceiling for the same signatures, and their ratio.
    Ledger(crate::cmd::bench_ledger::BenchLedgerOpts),
    /// The node's API under load: an in-process devnet, C clients submitting N pre-signed transfers;
    /// throughput to inclusion and submit-to-inclusion latency.
    Submit(BenchSubmitOpts),
    /// Load against running nodes, this project's or the reference Vapor node: a fresh key funded
    /// through the first node's wallet, one coin per transfer by fan-out, pre-signed transfers sent
    /// in batches through `submit-transactions` by C clients (optionally paced); sustained final
    /// tx/s over a window and submit-to-final latency from following the blocks.
    Load(BenchLoadOpts),
    /// N BBFT validators as N `tributary node` processes on this machine (from `devnet init`), loaded
    /// through all their APIs as `bench load` does: sustained final tx/s at full speed, then
    /// submit-to-final latency at half that rate.
    Cluster(crate::cmd::bench_cluster::BenchClusterOpts),
}

/// Whose node `bench load` drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LoadTarget {
    /// This project's node (`tributary devnet` / `node`): funded from a wallet account.
    Tributary,
    /// The reference `vapord` (single-node solonet): funded by the federation key's `cross_chain_in`.
    Reference,
}

/// Arguments of `bench load`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchLoadOpts {
    /// API URLs (comma-separated): clients are spread over them; the first funds the load and is
    /// followed block by block.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:9888")]
    pub(crate) api: Vec<String>,
    /// Access token `id:secret` (the devnet prints its own); none for a node without authentication.
    #[arg(long)]
    pub(crate) token: Option<String>,
    /// The node's kind.
    #[arg(long, value_enum, default_value_t = LoadTarget::Tributary)]
    pub(crate) target: LoadTarget,
    /// The wallet account paying for the load (`--target tributary`).
    #[arg(long, default_value = "dev")]
    pub(crate) account: String,
    /// File holding the password of the funding key (the account's key, or the reference's federation
    /// key); else the TRIBUTARY_PASSWORD environment variable.
    #[arg(long)]
    pub(crate) password_file: Option<std::path::PathBuf>,
    /// Transfers (each spends its own coin).
    #[arg(long, default_value_t = 20_000)]
    pub(crate) txs: usize,
    /// Transfers per `submit-transactions` request.
    #[arg(long, default_value_t = 100)]
    pub(crate) batch: usize,
    /// Concurrent clients, each on its own connection.
    #[arg(long, default_value_t = 4)]
    pub(crate) clients: usize,
    /// Target submission rate in tx/s (0: as fast as the node admits them).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) rate: f64,
    /// Outputs per fan-out transaction.
    #[arg(long, default_value_t = 100)]
    pub(crate) fanout: usize,
    /// Blocks on top of a transfer's block before it counts as final (0: final when included, as
    /// on a solo node).
    #[arg(long, default_value_t = 0)]
    pub(crate) final_depth: u64,
    /// Seconds after the first submission left out of the sustained rate.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) warmup_secs: f64,
    /// Length of the sustained-rate window in seconds (the run must cover it: enough --txs).
    #[arg(long, default_value_t = 60.0)]
    pub(crate) window_secs: f64,
    /// Milliseconds between the follower's polls for new blocks.
    #[arg(long, default_value_t = 20)]
    pub(crate) poll_ms: u64,
    /// Seconds without a new block, after which the run ends with what was included.
    #[arg(long, default_value_t = 60)]
    pub(crate) drain_secs: u64,
}

/// Arguments of `bench submit`.
#[derive(Debug, Args)]
pub(crate) struct BenchSubmitOpts {
    /// Transfers to submit (each spends its own genesis output).
    #[arg(long, default_value_t = 5_000)]
    pub(crate) txs: usize,
    /// Concurrent clients, each on its own connection.
    #[arg(long, default_value_t = 4)]
    pub(crate) clients: usize,
    /// Requests each client sends before reading the answers (HTTP/1.1 pipelining).
    #[arg(long, default_value_t = 1)]
    pub(crate) batch: usize,
    /// Milliseconds between blocks while transactions wait.
    #[arg(long, default_value_t = 500)]
    pub(crate) block_interval_ms: u64,
}

/// Which chain's formats apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Chain {
    /// The main chain (Bytom v1.1.0 formats).
    Main,
    /// A sidechain (Vapor formats).
    Side,
}

impl From<Chain> for types::profile::Profile {
    fn from(c: Chain) -> Self {
        match c {
            Chain::Main => types::profile::Profile::Main,
            Chain::Side => types::profile::Profile::Side,
        }
    }
}

/// Which network's address prefixes apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NetworkArg {
    /// Production network.
    Mainnet,
    /// Public test network.
    Testnet,
    /// Local development network (the references' solonet).
    Devnet,
}

impl From<NetworkArg> for types::profile::Network {
    fn from(n: NetworkArg) -> Self {
        match n {
            NetworkArg::Mainnet => types::profile::Network::Mainnet,
            NetworkArg::Testnet => types::profile::Network::Testnet,
            NetworkArg::Devnet => types::profile::Network::Devnet,
        }
    }
}

/// Options shared by the decoders.
#[derive(Debug, Args)]
pub(crate) struct DecodeOpts {
    /// Raw bytes as hex.
    pub(crate) hex: String,
    /// Which chain's format the bytes are in.
    #[arg(long, value_enum, default_value_t = Chain::Side)]
    pub(crate) chain: Chain,
    /// Network whose prefixes are used to print addresses.
    #[arg(long, value_enum, default_value_t = NetworkArg::Mainnet)]
    pub(crate) network: NetworkArg,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TxCommand {
    /// Decode a raw transaction: the fields and IDs of the reference's decode-raw-transaction.
    Decode(DecodeOpts),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BlockCommand {
    /// Decode a raw block: hash, height, roots and each transaction.
    Decode(DecodeOpts),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a fresh root extended key pair (prints the private key: keep it safe).
    New,
    /// Derive a child key along a path of numbers (each a 4-byte little-endian selector, as the
    /// reference's BIP44-style paths).
    Derive(DeriveOpts),
    /// Sign a message with an extended private key.
    Sign {
        /// Extended private key, 128 hex characters.
        #[arg(long)]
        xprv: String,
        /// The message, as hex.
        #[arg(long)]
        message_hex: String,
    },
    /// Verify a signature with an extended public key.
    Verify {
        /// Extended public key, 128 hex characters.
        #[arg(long)]
        xpub: String,
        /// The message, as hex.
        #[arg(long)]
        message_hex: String,
        /// The signature, 128 hex characters.
        #[arg(long)]
        signature: String,
    },
    /// The address of a pay-to-public-key-hash (20 bytes) or pay-to-script-hash (32 bytes) program.
    Address {
        /// RIPEMD-160 of an ed25519 public key (20 bytes) or SHA3-256 of a script (32 bytes), as hex.
        #[arg(long)]
        pubkey_hash: String,
        /// Network whose address prefix is used.
        #[arg(long, value_enum, default_value_t = NetworkArg::Mainnet)]
        network: NetworkArg,
        /// Which chain's prefixes apply.
        #[arg(long, value_enum, default_value_t = Chain::Side)]
        chain: Chain,
    },
}

/// Arguments of `keys derive`.
#[derive(Debug, Args)]
pub(crate) struct DeriveOpts {
    /// Parent extended private key, 128 hex characters.
    #[arg(long, conflicts_with = "xpub", required_unless_present = "xpub")]
    pub(crate) xprv: Option<String>,
    /// Parent extended public key, 128 hex characters (non-hardened derivation only).
    #[arg(long)]
    pub(crate) xpub: Option<String>,
    /// Comma-separated path, e.g. 44,153,1,0,1.
    #[arg(long, value_delimiter = ',', required = true)]
    pub(crate) path: Vec<u32>,
    /// Use hardened derivation (needs --xprv).
    #[arg(long)]
    pub(crate) hardened: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AssetCommand {
    /// The asset ID of an issuance program and a raw JSON definition.
    Id {
        /// The issuance program, as hex.
        #[arg(long)]
        issuance_program: String,
        /// The asset definition, raw JSON text (hashed byte for byte as given).
        #[arg(long)]
        definition: String,
        /// VM version of the issuance program.
        #[arg(long, default_value_t = 1)]
        vm_version: u64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum VmCommand {
    /// Run a program with the given arguments pushed first; prints the outcome, gas left and stack.
    Run {
        /// The program, as hex (or as assembly text with --asm).
        #[arg(long)]
        program: String,
        /// Treat --program as assembly text ("DUP SHA3 0x01 EQUAL").
        #[arg(long)]
        asm: bool,
        /// An argument pushed before the program runs, as hex; repeat for more.
        #[arg(long = "arg")]
        args: Vec<String>,
        /// Which chain's VM rules apply (MULFRACTION exists on sidechains only).
        #[arg(long, value_enum, default_value_t = Chain::Side)]
        chain: Chain,
        /// Gas available to the program.
        #[arg(long, default_value_t = 100_000)]
        gas: u64,
    },
}

/// Arguments of `devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetOpts {
    /// `init`: write a multi-validator devnet's per-node configurations and keys without running it.
    #[command(subcommand)]
    pub(crate) action: Option<DevnetAction>,
    /// Sidechain validators (new devnets only): 2 or more (the default, 4) run BBFT validators in
    /// this process, each with its own store, talking over loopback TCP; 1 is a solo producer.
    #[arg(long, default_value_t = 4)]
    pub(crate) validators: usize,
    /// Data directory: created and initialised if it holds no devnet, reused if it does. Default: a
    /// fresh directory under the system's temporary directory.
    #[arg(long)]
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Address the API listens on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9888")]
    pub(crate) listen: String,
    /// Milliseconds between blocks while transactions wait (new devnets only).
    #[arg(long, default_value_t = 500)]
    pub(crate) block_interval_ms: u64,
    /// Address the main chain's API listens on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9889")]
    pub(crate) main_listen: String,
    /// Runs the sidechain only, without the mining main chain (which keeps one core busy).
    #[arg(long)]
    pub(crate) no_main_chain: bool,
}

/// `tributary devnet init ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DevnetAction {
    /// Write a devnet of N BBFT validators into a directory: `nodeK/node.toml` with its keys for each
    /// validator (run each with `tributary node --config DIR/nodeK/node.toml`, or all at once with
    /// `tributary devnet --data-dir DIR`), the funded dev account in node0's wallet, and the main chain.
    Init {
        /// How many validators (2 to 64).
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// The directory to create (must not hold a devnet already).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Validator K's API listens on 127.0.0.1:(this + K).
        #[arg(long, default_value_t = 9900)]
        api_base_port: u16,
        /// Validator K listens for the other validators on 127.0.0.1:(this + K).
        #[arg(long, default_value_t = 19900)]
        p2p_base_port: u16,
        /// Milliseconds between blocks.
        #[arg(long, default_value_t = 500)]
        block_interval_ms: u64,
    },
}

/// Arguments of `node`.
#[derive(Debug, Args)]
pub(crate) struct NodeOpts {
    /// The configuration file (TOML; see docs/node.md).
    #[arg(long)]
    pub(crate) config: std::path::PathBuf,
    /// Overrides the API's listen address from the file.
    #[arg(long)]
    pub(crate) listen: Option<String>,
    /// Mines (main chain only: `chain.profile = "main"`), as `[mining] enabled = true`.
    #[arg(long)]
    pub(crate) mine: bool,
}

/// Arguments of `wallet`: where the node is, and the command.
#[derive(Debug, Args)]
pub(crate) struct WalletOpts {
    /// The node's API URL.
    #[arg(long, global = true, default_value = "http://127.0.0.1:9888")]
    pub(crate) api: String,
    /// Access token `id:secret` (default: the TRIBUTARY_TOKEN environment variable).
    #[arg(long, global = true)]
    pub(crate) token: Option<String>,
    #[command(subcommand)]
    pub(crate) command: WalletCommand,
}

/// Where a key's password comes from: a file, or the TRIBUTARY_PASSWORD environment variable (never
/// a plain flag, which any user could read in the process list).
#[derive(Debug, Args)]
pub(crate) struct PasswordOpts {
    /// File whose first line is the password (default: the TRIBUTARY_PASSWORD environment variable).
    #[arg(long)]
    pub(crate) password_file: Option<std::path::PathBuf>,
}

/// What a transfer moves.
#[derive(Debug, Args)]
pub(crate) struct TransferOpts {
    /// The paying account's alias.
    #[arg(long)]
    pub(crate) from: String,
    /// The receiving address.
    #[arg(long)]
    pub(crate) to: String,
    /// Amount in the asset's smallest unit (neu for BTM).
    #[arg(long)]
    pub(crate) amount: u64,
    /// Asset ID (default: BTM).
    #[arg(long)]
    pub(crate) asset: Option<String>,
    /// Fee in neu, paid in BTM by the sending account.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) fee: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a key in the node's keystore, encrypted under the password.
    CreateKey {
        /// The key's alias.
        #[arg(long)]
        alias: String,
        #[command(flatten)]
        password: PasswordOpts,
        /// Write the key's recovery mnemonic to this file (mode 0600); without it, it is not shown.
        #[arg(long)]
        mnemonic_file: Option<std::path::PathBuf>,
        /// Create the key in this local wallet directory instead of the node's keystore (a
        /// co-signer who keeps their own key; no node needed).
        #[arg(long)]
        wallet_dir: Option<std::path::PathBuf>,
    },
    /// The keystore's keys (aliases and public keys).
    Keys,
    /// Create an account controlled by one or more keys (M-of-N with --quorum).
    CreateAccount {
        /// The account's alias.
        #[arg(long)]
        alias: String,
        /// A key alias or an extended public key (128 hex characters); repeat for multisig.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// Signatures needed to spend.
        #[arg(long, default_value_t = 1)]
        quorum: u64,
    },
    /// The wallet's accounts.
    Accounts,
    /// A new receiving address of an account.
    Receive {
        /// The account's alias.
        #[arg(long)]
        account: String,
    },
    /// The addresses of an account.
    Addresses {
        /// The account's alias.
        #[arg(long)]
        account: String,
    },
    /// Balances per account and asset.
    Balance {
        /// Only this account (alias).
        #[arg(long)]
        account: Option<String>,
    },
    /// Define an asset of a class (BAP-01..BAP-04, docs/assets.md) issued by one or more keys.
    CreateAsset {
        /// The asset's alias (stored upper case).
        #[arg(long)]
        alias: String,
        /// The asset class: bap-01 (bit), bap-02 (atomic lots), bap-03 (unique item), bap-04 (whole units).
        #[arg(long, default_value = "bap-01")]
        class: String,
        /// The definition as a JSON object (e.g. '{"name":"ticket","decimals":2}'); the class is
        /// written into it as its "bap" member.
        #[arg(long)]
        definition: Option<String>,
        /// A key alias or an extended public key; repeat for M-of-N issuance (default: the node's
        /// only key).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// Signatures needed to issue.
        #[arg(long, default_value_t = 1)]
        quorum: u64,
    },
    /// The wallet's assets (BTM and those defined here).
    Assets,
    /// Build, sign and submit an issuance of an asset defined in this wallet (main chain only).
    Issue {
        /// The asset's alias or ID.
        #[arg(long)]
        asset: String,
        /// Amount in the asset's smallest unit.
        #[arg(long)]
        amount: u64,
        /// The receiving address.
        #[arg(long)]
        to: String,
        /// Account paying the fee in BTM (with --fee).
        #[arg(long)]
        fee_from: Option<String>,
        /// Fee in neu, paid in BTM by --fee-from (0: none).
        #[arg(long, default_value_t = 0)]
        fee: u64,
        #[command(flatten)]
        password: PasswordOpts,
        /// Wait until a block includes the transaction and the wallet has seen that block.
        #[arg(long)]
        wait: bool,
    },
    /// Build, sign and submit a transfer; prints the transaction ID.
    Send {
        #[command(flatten)]
        transfer: TransferOpts,
        #[command(flatten)]
        password: PasswordOpts,
        /// Wait until a block includes the transaction and the wallet has seen that block.
        #[arg(long)]
        wait: bool,
    },
    /// Build a transfer without signing it; prints the template (save it for `sign`).
    Build {
        #[command(flatten)]
        transfer: TransferOpts,
    },
    /// Add this password's signatures to a template (from `build` or an earlier `sign`).
    Sign {
        /// The template file (JSON).
        #[arg(long)]
        template: std::path::PathBuf,
        #[command(flatten)]
        password: PasswordOpts,
        /// Sign with the keys of this local wallet directory instead of the node's keystore (no
        /// node needed).
        #[arg(long)]
        wallet_dir: Option<std::path::PathBuf>,
    },
    /// Submit a fully signed template (from `sign`) or raw transaction hex; prints the transaction ID.
    Submit {
        /// The signed template file (JSON).
        #[arg(long, conflicts_with = "raw", required_unless_present = "raw")]
        template: Option<std::path::PathBuf>,
        /// A raw signed transaction as hex.
        #[arg(long)]
        raw: Option<String>,
        /// Wait until a block includes the transaction and the wallet has seen that block.
        #[arg(long)]
        wait: bool,
    },
    /// An account's transactions, newest first.
    History {
        /// The account's alias.
        #[arg(long)]
        account: String,
    },
    /// One transaction by ID.
    Tx {
        /// The transaction ID.
        #[arg(long)]
        id: String,
    },
}
