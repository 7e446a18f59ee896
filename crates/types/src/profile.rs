//! Chain profiles and networks.

use std::fmt;

/// Which reference chain's formats and rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// The main chain: Bytom v1.1.0 (issuance, spend, coinbase inputs; PoW header with nonce and bits;
    /// timestamps in seconds).
    Main,
    /// A sidechain: Vapor (spend, coinbase, cross-chain and veto inputs; intra-chain, cross-chain and vote
    /// outputs; header with a block witness; timestamps in milliseconds).
    Side,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Main => "main",
            Profile::Side => "side",
        })
    }
}

/// Which network of a profile; it selects address prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// Production network.
    Mainnet,
    /// Public test network (Bytom "wisdom", Vapor "testnet").
    Testnet,
    /// Local development network (the references' "solonet").
    Devnet,
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Devnet => "devnet",
        })
    }
}
