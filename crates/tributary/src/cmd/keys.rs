//! `tributary keys ...`

use anyhow::{Context as _, Result, bail};
use crypto::chainkd::{XPrv, XPub};
use serde_json::{Value, json};
use types::address::StandardProgram;

use super::parse_hex;
use crate::cli::{DeriveOpts, KeysCommand};

/// Runs a `keys` subcommand.
pub(crate) fn run(cmd: KeysCommand) -> Result<Value> {
    match cmd {
        KeysCommand::New => {
            let xprv = XPrv::generate(&mut rand_core::OsRng);
            let xpub = xprv.xpub();
            Ok(json!({
                "xprv": xprv.expose_hex().as_str(),
                "xpub": xpub.to_hex(),
                "public_key": hex::encode(xpub.public_key()),
            }))
        }
        KeysCommand::Derive(opts) => derive(&opts),
        KeysCommand::Sign { xprv, message_hex } => {
            let xprv = XPrv::from_hex(xprv.trim()).context("--xprv is not a 64-byte extended private key")?;
            let msg = parse_hex("--message-hex", &message_hex)?;
            let sig = xprv.sign(&msg);
            Ok(json!({ "signature": hex::encode(sig), "xpub": xprv.xpub().to_hex() }))
        }
        KeysCommand::Verify {
            xpub,
            message_hex,
            signature,
        } => {
            let xpub = XPub::from_hex(xpub.trim()).context("--xpub is not a 64-byte extended public key")?;
            let msg = parse_hex("--message-hex", &message_hex)?;
            let sig = parse_hex("--signature", &signature)?;
            if sig.len() != crypto::ed25519::SIGNATURE_LEN {
                bail!(
                    "--signature must be {} bytes, got {}",
                    crypto::ed25519::SIGNATURE_LEN,
                    sig.len()
                );
            }
            Ok(json!({ "valid": xpub.verify(&msg, &sig) }))
        }
        KeysCommand::Address {
            pubkey_hash,
            network,
            chain,
        } => {
            let hash = parse_hex("--pubkey-hash", &pubkey_hash)?;
            let program = match <[u8; 20]>::try_from(hash.as_slice()) {
                Ok(h) => StandardProgram::PubKeyHash(h),
                Err(_) => match <[u8; 32]>::try_from(hash.as_slice()) {
                    Ok(h) => StandardProgram::ScriptHash(h),
                    Err(_) => bail!(
                        "--pubkey-hash must be 20 bytes (public key hash) or 32 bytes (script hash), got {}",
                        hash.len()
                    ),
                },
            }
            .to_program();
            let address = types::address::program_to_address(&program, chain.into(), network.into())
                .context("no address form for this program")?;
            Ok(json!({ "address": address, "control_program": hex::encode(&program) }))
        }
    }
}

fn derive(opts: &DeriveOpts) -> Result<Value> {
    // The reference's BIP44-style paths encode each element as 4 little-endian bytes.
    let path: Vec<[u8; 4]> = opts.path.iter().map(|n| n.to_le_bytes()).collect();
    let path_hex: Vec<String> = path.iter().map(hex::encode).collect();
    match (&opts.xprv, &opts.xpub) {
        (Some(xprv), None) => {
            let parent =
                XPrv::from_hex(xprv.trim()).context("--xprv is not a 64-byte extended private key")?;
            let mut child = parent;
            for sel in &path {
                child = child.child(sel, opts.hardened).context("derivation failed")?;
            }
            let xpub = child.xpub();
            Ok(json!({
                "xprv": child.expose_hex().as_str(),
                "xpub": xpub.to_hex(),
                "public_key": hex::encode(xpub.public_key()),
                "path": path_hex,
                "hardened": opts.hardened,
            }))
        }
        (None, Some(xpub)) => {
            if opts.hardened {
                bail!("hardened derivation needs the private key: use --xprv");
            }
            let parent =
                XPub::from_hex(xpub.trim()).context("--xpub is not a 64-byte extended public key")?;
            let child = parent.derive(&path).context("derivation failed")?;
            Ok(json!({
                "xpub": child.to_hex(),
                "public_key": hex::encode(child.public_key()),
                "path": path_hex,
                "hardened": false,
            }))
        }
        _ => bail!("give exactly one of --xprv or --xpub"),
    }
}
