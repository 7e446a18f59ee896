//! Value encodings of the store: fixed-width big-endian integers and raw hashes. They are part of the
//! on-disk format ([`crate::FORMAT_VERSION`]); change them only together with the version.

use ledger::{AssetChanges, AssetRecord, ChangeSet, LotId, UtxoEntry, UtxoKind};
use types::asset_class::{AssetClass, MAX_QUANTUM_DECIMALS};
use types::profile::{Network, Profile};
use types::{AssetId, Hash};

use crate::{StoreError, Tip, TxLocation};

/// Encoded size of a [`UtxoEntry`].
pub(crate) const UTXO_LEN: usize = 9;

pub(crate) fn kind_byte(kind: UtxoKind) -> u8 {
    match kind {
        UtxoKind::Normal => 0,
        UtxoKind::Coinbase => 1,
        UtxoKind::Vote => 2,
    }
}

fn kind_from(b: u8) -> Result<UtxoKind, StoreError> {
    match b {
        0 => Ok(UtxoKind::Normal),
        1 => Ok(UtxoKind::Coinbase),
        2 => Ok(UtxoKind::Vote),
        other => Err(StoreError::Corrupt(format!("unknown UTXO kind byte {other}"))),
    }
}

pub(crate) fn encode_utxo(e: &UtxoEntry) -> [u8; UTXO_LEN] {
    let mut out = [0u8; UTXO_LEN];
    out[0] = kind_byte(e.kind);
    out[1..].copy_from_slice(&e.height.to_be_bytes());
    out
}

pub(crate) fn decode_utxo(b: &[u8]) -> Result<UtxoEntry, StoreError> {
    let mut r = Cursor::new(b, "UTXO entry");
    let e = r.utxo()?;
    r.end()?;
    Ok(e)
}

/// Encoded size of an [`AssetRecord`]: class number (1 … 4), decimals (BAP-04, else 0), height.
pub(crate) const ASSET_LEN: usize = 10;

pub(crate) fn encode_asset(r: &AssetRecord) -> [u8; ASSET_LEN] {
    let mut out = [0u8; ASSET_LEN];
    let (class, decimals) = match r.class {
        AssetClass::Bit => (1, 0),
        AssetClass::Atomic => (2, 0),
        AssetClass::Quark => (3, 0),
        AssetClass::Quantum { decimals } => (4, decimals),
    };
    out[0] = class;
    out[1] = decimals;
    out[2..].copy_from_slice(&r.height.to_be_bytes());
    out
}

pub(crate) fn decode_asset(b: &[u8]) -> Result<AssetRecord, StoreError> {
    let mut r = Cursor::new(b, "asset record");
    let a = r.asset()?;
    r.end()?;
    Ok(a)
}

pub(crate) fn encode_tip(t: &Tip) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&t.height.to_be_bytes());
    out[8..].copy_from_slice(t.hash.as_bytes());
    out
}

pub(crate) fn decode_tip(b: &[u8]) -> Result<Tip, StoreError> {
    let mut r = Cursor::new(b, "tip");
    let t = Tip {
        height: r.u64()?,
        hash: r.hash()?,
    };
    r.end()?;
    Ok(t)
}

pub(crate) fn decode_base(b: &[u8]) -> Result<u64, StoreError> {
    let mut r = Cursor::new(b, "base height");
    let h = r.u64()?;
    r.end()?;
    Ok(h)
}

pub(crate) fn encode_location(l: &TxLocation) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&l.block_height.to_be_bytes());
    out[8..].copy_from_slice(&l.position.to_be_bytes());
    out
}

pub(crate) fn decode_location(b: &[u8]) -> Result<TxLocation, StoreError> {
    let mut r = Cursor::new(b, "transaction location");
    let block_height = r.u64()?;
    let position = u32::from_be_bytes(r.array::<4>()?);
    r.end()?;
    Ok(TxLocation {
        block_height,
        position,
    })
}

pub(crate) fn profile_byte(p: Profile) -> u8 {
    match p {
        Profile::Main => 0,
        Profile::Side => 1,
    }
}

pub(crate) fn profile_from(b: u8) -> Result<Profile, StoreError> {
    match b {
        0 => Ok(Profile::Main),
        1 => Ok(Profile::Side),
        other => Err(StoreError::Corrupt(format!("unknown profile byte {other}"))),
    }
}

pub(crate) fn network_byte(n: Network) -> u8 {
    match n {
        Network::Mainnet => 0,
        Network::Testnet => 1,
        Network::Devnet => 2,
    }
}

pub(crate) fn network_from(b: u8) -> Result<Network, StoreError> {
    match b {
        0 => Ok(Network::Mainnet),
        1 => Ok(Network::Testnet),
        2 => Ok(Network::Devnet),
        other => Err(StoreError::Corrupt(format!("unknown network byte {other}"))),
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    // Lengths are counts of entries in one block; a block cannot hold 2^32 outputs.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

/// height, block hash, then the spent, created and claimed lists, each with a u32 count.
pub(crate) fn encode_change_set(c: &ChangeSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        8 + 32 + 12 + (c.spent.len() + c.created.len()) * (32 + UTXO_LEN) + c.claimed.len() * 32,
    );
    out.extend_from_slice(&c.height.to_be_bytes());
    out.extend_from_slice(c.block_hash.as_bytes());
    for list in [&c.spent, &c.created] {
        put_len(&mut out, list.len());
        for (id, e) in list.iter() {
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&encode_utxo(e));
        }
    }
    put_len(&mut out, c.claimed.len());
    for id in &c.claimed {
        out.extend_from_slice(id.as_bytes());
    }
    out
}

/// A block's stored changes: the change set as [`encode_change_set`], then the asset changes (the
/// registered assets, the spent lots and the created lots, each list with a u32 count).
pub(crate) fn encode_block_changes(c: &ChangeSet, a: &AssetChanges) -> Vec<u8> {
    let mut out = encode_change_set(c);
    out.reserve(
        12 + a.registered.len() * (32 + ASSET_LEN) + (a.lots_spent.len() + a.lots_created.len()) * 64,
    );
    put_len(&mut out, a.registered.len());
    for (asset, r) in &a.registered {
        out.extend_from_slice(asset.as_bytes());
        out.extend_from_slice(&encode_asset(r));
    }
    for list in [&a.lots_spent, &a.lots_created] {
        put_len(&mut out, list.len());
        for (id, lot) in list.iter() {
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(lot.0.as_bytes());
        }
    }
    out
}

pub(crate) fn decode_block_changes(b: &[u8]) -> Result<(ChangeSet, AssetChanges), StoreError> {
    let mut r = Cursor::new(b, "change set");
    let c = change_set(&mut r)?;
    let n = r.count(32 + ASSET_LEN)?;
    let mut registered = Vec::with_capacity(n);
    for _ in 0..n {
        registered.push((AssetId(r.array::<32>()?), r.asset()?));
    }
    let mut lots = Vec::with_capacity(2);
    for _ in 0..2 {
        let n = r.count(64)?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            list.push((r.hash()?, LotId(r.hash()?)));
        }
        lots.push(list);
    }
    r.end()?;
    let lots_created = lots.pop().unwrap_or_default();
    let lots_spent = lots.pop().unwrap_or_default();
    Ok((
        c,
        AssetChanges {
            registered,
            lots_spent,
            lots_created,
        },
    ))
}

#[cfg(test)]
pub(crate) fn decode_change_set(b: &[u8]) -> Result<ChangeSet, StoreError> {
    let mut r = Cursor::new(b, "change set");
    let c = change_set(&mut r)?;
    r.end()?;
    Ok(c)
}

fn change_set(r: &mut Cursor<'_>) -> Result<ChangeSet, StoreError> {
    let height = r.u64()?;
    let block_hash = r.hash()?;
    let mut lists = Vec::with_capacity(2);
    for _ in 0..2 {
        let n = r.count(32 + UTXO_LEN)?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            list.push((r.hash()?, r.utxo()?));
        }
        lists.push(list);
    }
    let n = r.count(32)?;
    let mut claimed = Vec::with_capacity(n);
    for _ in 0..n {
        claimed.push(r.hash()?);
    }
    let created = lists.pop().unwrap_or_default();
    let spent = lists.pop().unwrap_or_default();
    Ok(ChangeSet {
        height,
        block_hash,
        spent,
        created,
        claimed,
    })
}

/// A bounds-checked reader over stored bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Cursor { bytes, what }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or_else(|| StoreError::Corrupt(format!("{} is truncated", self.what)))?;
        self.bytes = rest;
        Ok(*head)
    }

    fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_be_bytes(self.array::<8>()?))
    }

    fn hash(&mut self) -> Result<Hash, StoreError> {
        Ok(Hash(self.array::<32>()?))
    }

    fn asset(&mut self) -> Result<AssetRecord, StoreError> {
        let [class, decimals] = self.array::<2>()?;
        let class = match (class, decimals) {
            (1, 0) => AssetClass::Bit,
            (2, 0) => AssetClass::Atomic,
            (3, 0) => AssetClass::Quark,
            (4, d) if d <= MAX_QUANTUM_DECIMALS => AssetClass::Quantum { decimals: d },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "unknown asset class bytes {class} {decimals}"
                )));
            }
        };
        Ok(AssetRecord {
            class,
            height: self.u64()?,
        })
    }

    fn utxo(&mut self) -> Result<UtxoEntry, StoreError> {
        let [kind] = self.array::<1>()?;
        Ok(UtxoEntry {
            kind: kind_from(kind)?,
            height: self.u64()?,
        })
    }

    /// A u32 count of items of `item_len` bytes each, checked against the bytes left.
    fn count(&mut self, item_len: usize) -> Result<usize, StoreError> {
        let n = usize::try_from(u32::from_be_bytes(self.array::<4>()?))
            .map_err(|_| StoreError::Corrupt(format!("{} count too large", self.what)))?;
        if n.saturating_mul(item_len) > self.bytes.len() {
            return Err(StoreError::Corrupt(format!(
                "{} count {n} exceeds its bytes",
                self.what
            )));
        }
        Ok(n)
    }

    fn end(&self) -> Result<(), StoreError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "{} has {} trailing bytes",
                self.what,
                self.bytes.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_set_round_trip_and_truncation() {
        let c = ChangeSet {
            height: 7,
            block_hash: Hash([7; 32]),
            spent: vec![(
                Hash([1; 32]),
                UtxoEntry {
                    kind: UtxoKind::Coinbase,
                    height: 3,
                },
            )],
            created: vec![
                (
                    Hash([2; 32]),
                    UtxoEntry {
                        kind: UtxoKind::Normal,
                        height: 7,
                    },
                ),
                (
                    Hash([3; 32]),
                    UtxoEntry {
                        kind: UtxoKind::Vote,
                        height: 7,
                    },
                ),
            ],
            claimed: vec![Hash([9; 32])],
        };
        let bytes = encode_change_set(&c);
        assert_eq!(decode_change_set(&bytes).unwrap(), c);
        for cut in 0..bytes.len() {
            assert!(decode_change_set(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_change_set(&longer).is_err());
    }

    #[test]
    fn block_changes_round_trip_and_truncation() {
        let c = ChangeSet {
            height: 3,
            block_hash: Hash([3; 32]),
            spent: vec![],
            created: vec![(
                Hash([4; 32]),
                UtxoEntry {
                    kind: UtxoKind::Normal,
                    height: 3,
                },
            )],
            claimed: vec![],
        };
        let a = AssetChanges {
            registered: vec![
                (
                    AssetId([5; 32]),
                    AssetRecord {
                        class: AssetClass::Quantum { decimals: 18 },
                        height: 3,
                    },
                ),
                (
                    AssetId([6; 32]),
                    AssetRecord {
                        class: AssetClass::Atomic,
                        height: 3,
                    },
                ),
            ],
            lots_spent: vec![(Hash([7; 32]), LotId(Hash([8; 32])))],
            lots_created: vec![(Hash([4; 32]), LotId(Hash([8; 32])))],
        };
        let bytes = encode_block_changes(&c, &a);
        assert_eq!(decode_block_changes(&bytes).unwrap(), (c.clone(), a.clone()));
        for cut in 0..bytes.len() {
            assert!(decode_block_changes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A version-1 record (change set only) is not a version-2 record.
        assert!(decode_block_changes(&encode_change_set(&c)).is_err());
        for r in [&a.registered[0].1, &a.registered[1].1] {
            assert_eq!(decode_asset(&encode_asset(r)).unwrap(), *r);
        }
        for bad in [[0u8, 0], [5, 0], [1, 1], [4, 19]] {
            let mut b = encode_asset(&a.registered[0].1);
            b[..2].copy_from_slice(&bad);
            assert!(matches!(decode_asset(&b), Err(StoreError::Corrupt(_))), "{bad:?}");
        }
    }

    #[test]
    fn bad_kind_byte_is_corrupt() {
        let mut b = encode_utxo(&UtxoEntry {
            kind: UtxoKind::Normal,
            height: 1,
        });
        b[0] = 9;
        assert!(matches!(decode_utxo(&b), Err(StoreError::Corrupt(_))));
    }
}
