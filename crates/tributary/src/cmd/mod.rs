//! Subcommand implementations. Each returns the JSON value to print, or an error for bad input.

mod asset;
pub(crate) mod bench;
pub(crate) mod bench_cluster;
pub(crate) mod bench_ledger;
mod bench_submit;
mod decode;
mod devnet;
mod dpos;
mod keys;
pub(crate) mod load;
mod node;
mod ports;
mod pow;
mod snapshot;
mod vm;
mod wallet;

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::cli::{AssetCommand, BlockCommand, Command, DposCommand, TxCommand};

/// Runs one subcommand.
pub(crate) fn run(command: Command) -> Result<Value> {
    match command {
        Command::Tx(TxCommand::Decode(opts)) => decode::tx(&opts),
        Command::Block(BlockCommand::Decode(opts)) => decode::block(&opts),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Asset(AssetCommand::Id {
            issuance_program,
            definition,
            vm_version,
        }) => asset::id(&issuance_program, &definition, vm_version),
        Command::Vm(cmd) => vm::run(cmd),
        Command::Devnet(crate::cli::DevnetOpts {
            action:
                Some(crate::cli::DevnetAction::Init {
                    validators,
                    out,
                    api_base_port,
                    p2p_base_port,
                    block_interval_ms,
                }),
            ..
        }) => devnet::init(validators, &out, api_base_port, p2p_base_port, block_interval_ms),
        Command::Devnet(opts) => devnet::run(&opts),
        Command::Node(opts) => node::run(&opts),
        Command::Wallet(opts) => wallet::run(opts),
        Command::Bench(crate::cli::BenchCommand::Consensus(opts)) => bench::consensus(&opts),
        Command::Bench(crate::cli::BenchCommand::Ledger(opts)) => bench_ledger::run(&opts),
        Command::Bench(crate::cli::BenchCommand::Submit(opts)) => bench_submit::run(&opts),
        Command::Bench(crate::cli::BenchCommand::Load(opts)) => load::run_cli(&opts),
        Command::Bench(crate::cli::BenchCommand::Cluster(opts)) => bench_cluster::run(&opts),
        Command::Pow(crate::cli::PowCommand::Tensority { hash, seed }) => pow::tensority(&hash, &seed),
        Command::Snapshot(cmd) => snapshot::run(cmd),
        Command::Dpos(DposCommand::Registration(opts)) => dpos::registration(&opts),
    }
}

/// Parses hex given on the command line, naming the argument in the error.
pub(crate) fn parse_hex(what: &str, text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(text).with_context(|| format!("{what} is not valid hex"))
}
