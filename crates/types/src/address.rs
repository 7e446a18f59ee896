//! Segwit-style bech32 addresses for the two standard programs: pay-to-pubkey-hash (`00 14 <20 bytes>`)
//! and pay-to-script-hash (`00 20 <32 bytes>`), with the references' prefixes per profile and network.
//!
//! Recognising a program follows the reference's `IsP2WPKHScript` / `IsP2WSHScript`: exactly two
//! instructions, the first any opcode up to `OP_16` (so `OP_0`, `OP_1`..`OP_16` or a data push) and the
//! second a direct push of 20 or 32 bytes. The address always carries witness version 0, and decoding an
//! address gives back the canonical `00 14 ..` / `00 20 ..` program.

use bech32::{Fe32, Hrp, segwit};

use crate::profile::{Network, Profile};

/// Why an address could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The prefix is not the expected network's.
    #[error("address prefix is not {expected}1")]
    WrongPrefix {
        /// The expected human-readable part.
        expected: &'static str,
    },
    /// Not a valid bech32 segwit string (characters, case, checksum, padding, length).
    #[error("invalid bech32 address: {0}")]
    Bech32(String),
    /// A witness version other than 0.
    #[error("unsupported witness version {0}")]
    UnsupportedWitnessVersion(u8),
    /// A witness program of a length other than 20 or 32 bytes.
    #[error("unsupported witness program length {0}")]
    UnsupportedProgramLength(usize),
}

/// The human-readable prefix of a profile's network (Bytom `bm`/`tm`/`sm`, Vapor `vp`/`tp`/`sp`).
pub fn hrp(profile: Profile, network: Network) -> &'static str {
    match (profile, network) {
        (Profile::Main, Network::Mainnet) => "bm",
        (Profile::Main, Network::Testnet) => "tm",
        (Profile::Main, Network::Devnet) => "sm",
        (Profile::Side, Network::Mainnet) => "vp",
        (Profile::Side, Network::Testnet) => "tp",
        (Profile::Side, Network::Devnet) => "sp",
    }
}

/// The prefix a sidechain uses when it prints a main-chain address (cross-chain inputs and outputs):
/// `bn`, `tn`, `sn` (the Vapor reference's `BytomMainNetParams`).
pub fn sidechain_mainchain_hrp(network: Network) -> &'static str {
    match network {
        Network::Mainnet => "bn",
        Network::Testnet => "tn",
        Network::Devnet => "sn",
    }
}

/// A standard program's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardProgram {
    /// Pay to public-key hash: RIPEMD-160 of the public key.
    PubKeyHash([u8; 20]),
    /// Pay to script hash: SHA3-256 of the script.
    ScriptHash([u8; 32]),
}

impl StandardProgram {
    /// The canonical program: `00 14 <hash>` or `00 20 <hash>`.
    pub fn to_program(&self) -> Vec<u8> {
        let data: &[u8] = match self {
            StandardProgram::PubKeyHash(h) => h,
            StandardProgram::ScriptHash(h) => h,
        };
        let mut out = Vec::with_capacity(2 + data.len());
        out.push(0x00);
        out.push(u8::try_from(data.len()).unwrap_or(0));
        out.extend_from_slice(data);
        out
    }

    /// Recognises a standard program the way the reference does (see the module docs).
    pub fn from_program(program: &[u8]) -> Option<StandardProgram> {
        let first_len = first_instruction_len(program)?;
        let rest = program.get(first_len..)?;
        let (&op, data) = rest.split_first()?;
        match (op, data.len()) {
            (0x14, 20) => data.try_into().ok().map(StandardProgram::PubKeyHash),
            (0x20, 32) => data.try_into().ok().map(StandardProgram::ScriptHash),
            _ => None,
        }
    }

    fn hash_bytes(&self) -> &[u8] {
        match self {
            StandardProgram::PubKeyHash(h) => h,
            StandardProgram::ScriptHash(h) => h,
        }
    }
}

/// Length of the first instruction when its opcode is at most `OP_16` (0x60), else `None`.
fn first_instruction_len(program: &[u8]) -> Option<usize> {
    let (&op, rest) = program.split_first()?;
    let data_len = |prefix: usize| -> Option<usize> {
        let len_bytes = rest.get(..prefix)?;
        let mut n: usize = 0;
        for (i, b) in len_bytes.iter().enumerate() {
            n |= usize::from(*b) << (8 * i);
        }
        let total = 1usize.checked_add(prefix)?.checked_add(n)?;
        (total <= program.len()).then_some(total)
    };
    match op {
        0x01..=0x4b => {
            let total = 1 + usize::from(op);
            (total <= program.len()).then_some(total)
        }
        0x4c => data_len(1),
        0x4d => data_len(2),
        0x4e => data_len(4),
        0x00 | 0x4f..=0x60 => Some(1),
        _ => None,
    }
}

/// The address of a standard program under an explicit prefix; `None` for any other program.
pub fn program_to_address_with_hrp(program: &[u8], hrp: &str) -> Option<String> {
    let standard = StandardProgram::from_program(program)?;
    let hrp = Hrp::parse(hrp).ok()?;
    segwit::encode(hrp, Fe32::Q, standard.hash_bytes()).ok()
}

/// The address of a standard program for a profile and network; `None` for any other program.
pub fn program_to_address(program: &[u8], profile: Profile, network: Network) -> Option<String> {
    program_to_address_with_hrp(program, hrp(profile, network))
}

/// Decodes an address that must carry the given prefix (upper- or lower-case, as bech32 allows).
pub fn decode_address_with_hrp(
    address: &str,
    expected: &'static str,
) -> Result<StandardProgram, AddressError> {
    // The reference checks the prefix (everything up to the last '1') before the checksum.
    let prefix_ok = address
        .rfind('1')
        .and_then(|i| address.get(..i))
        .is_some_and(|p| p.eq_ignore_ascii_case(expected));
    if !prefix_ok {
        return Err(AddressError::WrongPrefix { expected });
    }
    let (_, version, program) = segwit::decode(address).map_err(|e| AddressError::Bech32(e.to_string()))?;
    if version != Fe32::Q {
        return Err(AddressError::UnsupportedWitnessVersion(version.to_u8()));
    }
    match program.len() {
        20 => program
            .as_slice()
            .try_into()
            .map(StandardProgram::PubKeyHash)
            .map_err(|_| AddressError::UnsupportedProgramLength(20)),
        32 => program
            .as_slice()
            .try_into()
            .map(StandardProgram::ScriptHash)
            .map_err(|_| AddressError::UnsupportedProgramLength(32)),
        n => Err(AddressError::UnsupportedProgramLength(n)),
    }
}

/// Decodes an address of a profile and network to its hash.
pub fn decode_address(
    address: &str,
    profile: Profile,
    network: Network,
) -> Result<StandardProgram, AddressError> {
    decode_address_with_hrp(address, hrp(profile, network))
}

/// Decodes an address of a profile and network to its canonical control program.
pub fn address_to_program(
    address: &str,
    profile: Profile,
    network: Network,
) -> Result<Vec<u8>, AddressError> {
    decode_address(address, profile, network).map(|s| s.to_program())
}
