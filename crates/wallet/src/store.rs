//! The wallet's state: accounts, control programs, counters, the UTXO and history index and the
//! per-block undo records. Held in memory for reads and persisted in one redb file. Every mutation
//! is a list of [`Change`]s, committed to redb in one write transaction and only then applied to
//! memory, so a failed write leaves both as they were.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use types::Hash;

use crate::account::{Account, CtrlProgram};
use crate::asset::Asset;
use crate::error::{WalletError, db, json};
use crate::index::{AnnotatedTx, AssetRecord, BlockUndo, WalletUtxo};

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const PROGRAMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("programs");
const UTXOS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("utxos");
const TXS: TableDefinition<[u8; 12], &[u8]> = TableDefinition::new("txs");
const UNDO: TableDefinition<u64, &[u8]> = TableDefinition::new("undo");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ASSETS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("assets");
const DEFINED: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("defined_assets");
const TIP_KEY: &str = "tip";

/// Where a transaction sits in the chain; orders the history.
pub(crate) type TxKey = (u64, u32);

fn tx_key_bytes(k: TxKey) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&k.0.to_be_bytes());
    b[8..].copy_from_slice(&k.1.to_be_bytes());
    b
}

fn tx_key_from(b: [u8; 12]) -> TxKey {
    let mut h = [0u8; 8];
    h.copy_from_slice(&b[..8]);
    let mut p = [0u8; 4];
    p.copy_from_slice(&b[8..]);
    (u64::from_be_bytes(h), u32::from_be_bytes(p))
}

/// The whole state, in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct State {
    pub(crate) accounts: BTreeMap<String, Account>,
    /// "acct:<key set id>" → last account index; "addr:<account id>:<0|1>" → last address index.
    pub(crate) counters: BTreeMap<String, u64>,
    pub(crate) programs: BTreeMap<Vec<u8>, CtrlProgram>,
    pub(crate) utxos: BTreeMap<Hash, WalletUtxo>,
    pub(crate) txs: BTreeMap<TxKey, AnnotatedTx>,
    pub(crate) undo: BTreeMap<u64, BlockUndo>,
    pub(crate) tip: Option<(u64, Hash)>,
    /// External assets learned from cross-chain inputs.
    pub(crate) assets: BTreeMap<[u8; 32], AssetRecord>,
    /// Assets defined here (`create-asset`), by ID.
    pub(crate) defined: BTreeMap<[u8; 32], Asset>,
}

/// One change to the state.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Account(String, Option<Account>),
    Counter(String, u64),
    Program(Vec<u8>, Option<CtrlProgram>),
    Utxo(Hash, Option<WalletUtxo>),
    Tx(TxKey, Option<AnnotatedTx>),
    Undo(u64, Option<BlockUndo>),
    Tip(Option<(u64, Hash)>),
    Asset([u8; 32], Option<AssetRecord>),
    Defined([u8; 32], Option<Asset>),
}

pub(crate) fn account_counter(key_set: &str) -> String {
    format!("acct:{key_set}")
}

pub(crate) fn address_counter(account_id: &str, change: bool) -> String {
    format!("addr:{account_id}:{}", u8::from(change))
}

fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>, WalletError> {
    serde_json::to_vec(v).map_err(|e| WalletError::Internal(format!("encode record: {e}")))
}

fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T, WalletError> {
    serde_json::from_slice(b).map_err(json)
}

/// The redb file and its in-memory mirror.
#[derive(Debug)]
pub(crate) struct Store {
    db: Database,
    pub(crate) state: State,
}

impl Store {
    pub(crate) fn open(path: &Path) -> Result<Store, WalletError> {
        let database = Database::create(path).map_err(db)?;
        let txn = database.begin_write().map_err(db_err)?;
        {
            txn.open_table(ACCOUNTS).map_err(db)?;
            txn.open_table(COUNTERS).map_err(db)?;
            txn.open_table(PROGRAMS).map_err(db)?;
            txn.open_table(UTXOS).map_err(db)?;
            txn.open_table(TXS).map_err(db)?;
            txn.open_table(UNDO).map_err(db)?;
            txn.open_table(META).map_err(db)?;
            txn.open_table(ASSETS).map_err(db)?;
            txn.open_table(DEFINED).map_err(db)?;
        }
        txn.commit().map_err(db)?;
        let state = load(&database)?;
        Ok(Store { db: database, state })
    }

    /// Commits `changes` atomically, then applies them in memory.
    pub(crate) fn commit(&mut self, changes: Vec<Change>) -> Result<(), WalletError> {
        if changes.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut accounts = txn.open_table(ACCOUNTS).map_err(db)?;
            let mut counters = txn.open_table(COUNTERS).map_err(db)?;
            let mut programs = txn.open_table(PROGRAMS).map_err(db)?;
            let mut utxos = txn.open_table(UTXOS).map_err(db)?;
            let mut txs = txn.open_table(TXS).map_err(db)?;
            let mut undo = txn.open_table(UNDO).map_err(db)?;
            let mut meta = txn.open_table(META).map_err(db)?;
            let mut assets = txn.open_table(ASSETS).map_err(db)?;
            let mut defined = txn.open_table(DEFINED).map_err(db)?;
            for c in &changes {
                match c {
                    Change::Account(id, Some(a)) => {
                        accounts.insert(id.as_str(), enc(a)?.as_slice()).map_err(db)?;
                    }
                    Change::Account(id, None) => {
                        accounts.remove(id.as_str()).map_err(db)?;
                    }
                    Change::Counter(k, v) => {
                        counters.insert(k.as_str(), *v).map_err(db)?;
                    }
                    Change::Program(p, Some(cp)) => {
                        programs.insert(p.as_slice(), enc(cp)?.as_slice()).map_err(db)?;
                    }
                    Change::Program(p, None) => {
                        programs.remove(p.as_slice()).map_err(db)?;
                    }
                    Change::Utxo(id, Some(u)) => {
                        utxos.insert(id.0, enc(u)?.as_slice()).map_err(db)?;
                    }
                    Change::Utxo(id, None) => {
                        utxos.remove(id.0).map_err(db)?;
                    }
                    Change::Tx(k, Some(t)) => {
                        txs.insert(tx_key_bytes(*k), enc(t)?.as_slice()).map_err(db)?;
                    }
                    Change::Tx(k, None) => {
                        txs.remove(tx_key_bytes(*k)).map_err(db)?;
                    }
                    Change::Undo(h, Some(u)) => {
                        undo.insert(*h, enc(u)?.as_slice()).map_err(db)?;
                    }
                    Change::Undo(h, None) => {
                        undo.remove(*h).map_err(db)?;
                    }
                    Change::Asset(id, Some(a)) => {
                        assets.insert(*id, enc(a)?.as_slice()).map_err(db)?;
                    }
                    Change::Asset(id, None) => {
                        assets.remove(*id).map_err(db)?;
                    }
                    Change::Defined(id, Some(a)) => {
                        defined.insert(*id, enc(a)?.as_slice()).map_err(db)?;
                    }
                    Change::Defined(id, None) => {
                        defined.remove(*id).map_err(db)?;
                    }
                    Change::Tip(t) => {
                        meta.insert(TIP_KEY, enc(&t.map(|(h, hash)| (h, hash.to_hex())))?.as_slice())
                            .map_err(db)?;
                    }
                }
            }
        }
        txn.commit().map_err(db)?;
        self.state.apply(changes);
        Ok(())
    }
}

fn db_err(e: redb::TransactionError) -> WalletError {
    db(e)
}

impl State {
    pub(crate) fn apply(&mut self, changes: Vec<Change>) {
        for c in changes {
            match c {
                Change::Account(id, Some(a)) => {
                    self.accounts.insert(id, a);
                }
                Change::Account(id, None) => {
                    self.accounts.remove(&id);
                }
                Change::Counter(k, v) => {
                    self.counters.insert(k, v);
                }
                Change::Program(p, Some(cp)) => {
                    self.programs.insert(p, cp);
                }
                Change::Program(p, None) => {
                    self.programs.remove(&p);
                }
                Change::Utxo(id, Some(u)) => {
                    self.utxos.insert(id, u);
                }
                Change::Utxo(id, None) => {
                    self.utxos.remove(&id);
                }
                Change::Tx(k, Some(t)) => {
                    self.txs.insert(k, t);
                }
                Change::Tx(k, None) => {
                    self.txs.remove(&k);
                }
                Change::Undo(h, Some(u)) => {
                    self.undo.insert(h, u);
                }
                Change::Undo(h, None) => {
                    self.undo.remove(&h);
                }
                Change::Tip(t) => self.tip = t,
                Change::Asset(id, Some(a)) => {
                    self.assets.insert(id, a);
                }
                Change::Asset(id, None) => {
                    self.assets.remove(&id);
                }
                Change::Defined(id, Some(a)) => {
                    self.defined.insert(id, a);
                }
                Change::Defined(id, None) => {
                    self.defined.remove(&id);
                }
            }
        }
    }
}

fn load(database: &Database) -> Result<State, WalletError> {
    let txn = database.begin_read().map_err(db)?;
    let mut state = State::default();
    for item in txn.open_table(ACCOUNTS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.accounts.insert(k.value().to_string(), dec(v.value())?);
    }
    for item in txn.open_table(COUNTERS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.counters.insert(k.value().to_string(), v.value());
    }
    for item in txn.open_table(PROGRAMS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.programs.insert(k.value().to_vec(), dec(v.value())?);
    }
    for item in txn.open_table(UTXOS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.utxos.insert(Hash(k.value()), dec(v.value())?);
    }
    for item in txn.open_table(TXS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.txs.insert(tx_key_from(k.value()), dec(v.value())?);
    }
    for item in txn.open_table(UNDO).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.undo.insert(k.value(), dec(v.value())?);
    }
    for item in txn.open_table(ASSETS).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.assets.insert(k.value(), dec(v.value())?);
    }
    for item in txn.open_table(DEFINED).map_err(db)?.iter().map_err(db)? {
        let (k, v) = item.map_err(db)?;
        state.defined.insert(k.value(), dec(v.value())?);
    }
    if let Some(v) = txn.open_table(META).map_err(db)?.get(TIP_KEY).map_err(db)? {
        let tip: Option<(u64, String)> = dec(v.value())?;
        state.tip = match tip {
            Some((h, hash)) => Some((
                h,
                Hash::from_hex(&hash).map_err(|e| WalletError::Db(format!("tip: {e}")))?,
            )),
            None => None,
        };
    }
    Ok(state)
}
