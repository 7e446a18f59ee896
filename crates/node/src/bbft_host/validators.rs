//! The genesis validator set: configured validators (their DPoS identity, network key, BLS
//! consensus key and its proof of possession) become a DPoS set (`consensus::dpos`), which
//! becomes the BBFT set of epoch 0 (`ValidatorSet::to_bbft`: validator `i` is network node `i`,
//! power 1, the default round-robin topology).

use std::sync::Arc;

use consensus::bbft::{self, Topology};
use consensus::dpos::{self, ProvenKey};
use crypto::chainkd::XPub;
use serde::{Deserialize, Serialize};

use crate::NodeError;

/// One genesis validator, as the genesis configuration lists it (all hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Its DPoS identity (64-byte extended public key), as vote outputs name it.
    pub xpub: String,
    /// Its node's ed25519 public key (32 bytes): the peer identity of its transport.
    pub node_key: String,
    /// Its BLS12-381 consensus public key (48 bytes, compressed).
    pub bls_key: String,
    /// The key's proof of possession (96 bytes).
    pub bls_pop: String,
}

impl GenesisValidator {
    /// The entry of a validator with these keys (devnets and tests).
    pub fn of(xpub: &XPub, node_key: &[u8; 32], bls: &crypto::bls::SecretKey) -> GenesisValidator {
        GenesisValidator {
            xpub: xpub.to_hex(),
            node_key: hex::encode(node_key),
            bls_key: hex::encode(bls.public_key().to_bytes()),
            bls_pop: hex::encode(bls.prove_possession().to_bytes()),
        }
    }
}

/// The validator set a chain starts with, in both forms, and the nodes this node knows.
#[derive(Debug, Clone)]
pub struct GenesisSet {
    /// The DPoS set (election order).
    pub dpos: dpos::ValidatorSet,
    /// The BBFT set of epoch 0 (validator `i` is node `i`).
    pub bbft: Arc<bbft::ValidatorSet>,
    /// Each known node's (transport) key: the genesis validators', then the candidates'. Node
    /// `i` has node id `i`.
    pub node_keys: Vec<[u8; 32]>,
    /// Each known node's DPoS identity, in the same order.
    pub directory: Vec<XPub>,
}

impl GenesisSet {
    /// How the chain's sets come about: this genesis set, `dpos` elections, this directory.
    pub fn setup(&self, dpos: consensus::dpos::DposConfig) -> crate::elections::BbftSetup {
        crate::elections::BbftSetup {
            dpos,
            genesis: self.dpos.clone(),
            directory: self.directory.clone(),
        }
    }
}

fn hex_field(i: usize, what: &str, s: &str) -> Result<Vec<u8>, NodeError> {
    hex::decode(s.trim()).map_err(|e| NodeError::Config(format!("validator {i}: {what} is not hex: {e}")))
}

/// One configured node: its DPoS identity, node key and proven BLS key.
fn parse_entry(i: usize, v: &GenesisValidator) -> Result<(XPub, [u8; 32], ProvenKey), NodeError> {
    let xpub =
        XPub::from_hex(v.xpub.trim()).map_err(|e| NodeError::Config(format!("validator {i}: xpub: {e}")))?;
    let node_key = <[u8; 32]>::try_from(hex_field(i, "node_key", &v.node_key)?.as_slice())
        .map_err(|_| NodeError::Config(format!("validator {i}: node_key must be 32 bytes")))?;
    let key = ProvenKey::new(
        &hex_field(i, "bls_key", &v.bls_key)?,
        &hex_field(i, "bls_pop", &v.bls_pop)?,
    )
    .map_err(|e| NodeError::Config(format!("validator {i}: {e}")))?;
    Ok((xpub, node_key, key))
}

/// Checks the configured validators (every key decodes, every proof of possession verifies, no
/// duplicates) and builds the sets.
pub fn genesis_set(validators: &[GenesisValidator]) -> Result<GenesisSet, NodeError> {
    network_set(validators, &[])
}

/// As [`genesis_set`], with `candidates`: nodes known to the network that may be elected later
/// (node ids after the genesis validators). Identities and node keys must be distinct across both.
pub fn network_set(
    validators: &[GenesisValidator],
    candidates: &[GenesisValidator],
) -> Result<GenesisSet, NodeError> {
    let mut dpos_validators = Vec::with_capacity(validators.len());
    let mut node_keys = Vec::with_capacity(validators.len() + candidates.len());
    let mut directory = Vec::with_capacity(validators.len() + candidates.len());
    for (i, v) in validators.iter().chain(candidates).enumerate() {
        let (xpub, node_key, key) = parse_entry(i, v)?;
        if directory.contains(&xpub) || node_keys.contains(&node_key) {
            return Err(NodeError::Config(format!(
                "validator {i}: its xpub or node key is listed twice (validators and candidates)"
            )));
        }
        if i < validators.len() {
            dpos_validators.push(dpos::Validator {
                candidate: xpub,
                consensus_key: key,
                votes: 0,
            });
        }
        node_keys.push(node_key);
        directory.push(xpub);
    }
    let set = dpos::ValidatorSet::new(dpos_validators)
        .map_err(|e| NodeError::Config(format!("genesis validators: {e}")))?;
    let n = set.len();
    let nodes: Vec<bbft::NodeId> = (0..n).map(|i| u32::try_from(i).unwrap_or(u32::MAX)).collect();
    let bbft_set = set
        .to_bbft(
            &nodes,
            Topology::round_robin(n, Topology::default_m(n)),
            &bbft::Bls,
        )
        .map_err(|e| NodeError::Config(format!("genesis validators: {e}")))?;
    Ok(GenesisSet {
        dpos: set,
        bbft: Arc::new(bbft_set),
        node_keys,
        directory,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn entry(i: u8) -> GenesisValidator {
        let xprv = crypto::chainkd::XPrv::root(&[i; 8]);
        GenesisValidator::of(
            &xprv.xpub(),
            &[i; 32],
            &crypto::bls::SecretKey::from_seed(&[i; 32]),
        )
    }

    #[test]
    fn a_configured_set_becomes_a_bbft_set_and_bad_entries_are_refused() {
        let good: Vec<GenesisValidator> = (1..=4).map(entry).collect();
        let set = genesis_set(&good).unwrap();
        assert_eq!(set.bbft.len(), 4);
        assert_eq!(set.node_keys[2], [3; 32]);
        // Another key's proof of possession.
        let mut swapped = good.clone();
        swapped[1].bls_pop = good[2].bls_pop.clone();
        assert!(matches!(genesis_set(&swapped), Err(NodeError::Config(_))));
        // Not hex, wrong length, duplicate.
        let mut bad = good.clone();
        bad[0].node_key = "zz".into();
        assert!(genesis_set(&bad).is_err());
        let mut short = good.clone();
        short[0].node_key = "00".into();
        assert!(genesis_set(&short).is_err());
        let mut dup = good.clone();
        dup[3] = dup[0].clone();
        assert!(genesis_set(&dup).is_err());
        assert!(genesis_set(&[]).is_err());
    }

    #[test]
    fn candidates_follow_the_genesis_validators_in_the_directory() {
        let validators: Vec<GenesisValidator> = (1..=4).map(entry).collect();
        let candidates: Vec<GenesisValidator> = (5..=6).map(entry).collect();
        let set = network_set(&validators, &candidates).unwrap();
        assert_eq!(set.bbft.len(), 4);
        assert_eq!(set.dpos.len(), 4);
        assert_eq!(set.node_keys.len(), 6);
        assert_eq!(set.node_keys[5], [6; 32]);
        assert_eq!(set.directory[4], crypto::chainkd::XPrv::root(&[5; 8]).xpub());
        // A candidate that is also a validator, or shares its node key.
        assert!(network_set(&validators, &[entry(2)]).is_err());
        let mut shared = entry(7);
        shared.node_key = validators[0].node_key.clone();
        assert!(network_set(&validators, &[shared]).is_err());
        // A candidate's proof of possession is checked too.
        let mut forged = entry(7);
        forged.bls_pop = validators[0].bls_pop.clone();
        assert!(network_set(&validators, &[forged]).is_err());
    }
}
