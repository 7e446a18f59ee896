//! [`Wallet`]: the keystore, the accounts and the index behind one internally locked handle.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use crypto::chainkd::XPub;
use ledger::ChainParams;
use types::address::address_to_program;
use types::{Block, Hash, Network, Profile};
use zeroize::Zeroizing;

use crate::account::{
    Account, AccountPubkeys, AddressInfo, AddressValidity, CtrlProgram, HARDENED_KEY_START, PubKeyInfo,
    Receiver, check_signers, derive_program, key_set_id,
};
use crate::error::WalletError;
use crate::index::{
    AnnotatedTx, Balance, DEFAULT_PAGE, MAX_PAGE, Maturity, TxQuery, UNDO_DEPTH, WalletUtxo,
    asset_annotation, block_changes, spent_ids, unwind_changes, unwind_tip_changes,
};
use crate::keystore::{KdfParams, KeyInfo, Keystore, normalize_alias, random_uuid};
use crate::select::Reserver;
use crate::store::{Change, State, Store, account_counter, address_counter};

/// The file of the wallet database inside the wallet directory.
pub const DB_FILE: &str = "wallet.redb";
/// The key directory inside the wallet directory.
pub const KEYS_DIR: &str = "keys";
/// Most addresses derived in one call (bounds recovery-style requests).
pub const MAX_BATCH_ADDRESSES: u64 = 10_000;

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) reserver: Reserver,
}

/// The node's wallet. `Send + Sync`; every method takes `&self` and locks internally (key derivation
/// for passwords runs outside the state lock).
pub struct Wallet {
    pub(crate) profile: Profile,
    pub(crate) network: Network,
    pub(crate) params: ChainParams,
    pub(crate) keystore: Keystore,
    pub(crate) inner: Mutex<Inner>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("profile", &self.profile)
            .field("network", &self.network)
            .finish()
    }
}

/// The chain parameters a wallet of this profile and network follows (maturity, gas).
pub fn chain_params(profile: Profile, network: Network) -> ChainParams {
    match (profile, network) {
        (Profile::Side, Network::Devnet) => ChainParams::side_devnet(),
        (Profile::Side, _) => ChainParams::side_mainnet(),
        (Profile::Main, Network::Devnet) => ChainParams::main_devnet(),
        (Profile::Main, _) => ChainParams::main_mainnet(),
    }
}

impl Wallet {
    /// Opens (or creates) the wallet in `dir`: keys in `dir/keys`, the database in `dir/wallet.redb`.
    pub fn open(
        dir: &Path,
        profile: Profile,
        network: Network,
        kdf: KdfParams,
    ) -> Result<Wallet, WalletError> {
        Self::open_with_params(dir, chain_params(profile, network), kdf)
    }

    /// As [`Wallet::open`], with explicit chain parameters.
    pub fn open_with_params(dir: &Path, params: ChainParams, kdf: KdfParams) -> Result<Wallet, WalletError> {
        std::fs::create_dir_all(dir).map_err(|source| WalletError::Io {
            op: "create directory",
            path: dir.display().to_string(),
            source,
        })?;
        let keystore = Keystore::open(&dir.join(KEYS_DIR), kdf)?;
        let store = Store::open(&dir.join(DB_FILE))?;
        Ok(Wallet {
            profile: params.profile,
            network: params.network,
            params,
            keystore,
            inner: Mutex::new(Inner {
                store,
                reserver: Reserver::default(),
            }),
        })
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Inner>, WalletError> {
        self.inner
            .lock()
            .map_err(|_| WalletError::Internal("wallet lock poisoned".into()))
    }

    /// The chain profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    pub(crate) fn maturity(&self) -> Maturity {
        Maturity {
            coinbase: self.params.coinbase_maturity,
            vote: self.params.vote_maturity,
        }
    }

    // ----- keys -----

    /// Creates a key from a fresh 12-word mnemonic (`create-key`).
    pub fn create_key(
        &self,
        alias: &str,
        password: &str,
    ) -> Result<(KeyInfo, Zeroizing<String>), WalletError> {
        self.keystore.create(alias, password)
    }

    /// Imports a key from its mnemonic (`create-key` with `mnemonic`).
    pub fn import_key(&self, alias: &str, password: &str, mnemonic: &str) -> Result<KeyInfo, WalletError> {
        self.keystore.import(alias, password, mnemonic)
    }

    /// Every key (`list-keys`).
    pub fn list_keys(&self) -> Vec<KeyInfo> {
        self.keystore.list()
    }

    /// Deletes a key after checking its password (`delete-key`).
    pub fn delete_key(&self, xpub: &XPub, password: &str) -> Result<(), WalletError> {
        self.keystore.delete(xpub, password)
    }

    /// Changes a key's password (`reset-key-password`).
    pub fn reset_key_password(&self, xpub: &XPub, old: &str, new: &str) -> Result<(), WalletError> {
        self.keystore.reset_password(xpub, old, new)
    }

    /// The mnemonic of a key, given its password.
    pub fn export_mnemonic(&self, xpub: &XPub, password: &str) -> Result<Zeroizing<String>, WalletError> {
        self.keystore.export_mnemonic(xpub, password)
    }

    /// Whether the keystore holds the private key of `xpub` (`check-key-password` without a password).
    pub fn has_key(&self, xpub: &XPub) -> bool {
        self.keystore.has(xpub)
    }

    /// Whether `password` opens the key of `xpub` (`check-key-password`); a key not held is an error.
    pub fn check_key_password(&self, xpub: &XPub, password: &str) -> Result<bool, WalletError> {
        match self.keystore.unlock(xpub, password) {
            Ok(_) => Ok(true),
            Err(WalletError::WrongPassword { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    // ----- accounts -----

    /// Creates an account (`create-account`): BIP44, index = one more than the last account of the same
    /// key set.
    pub fn create_account(
        &self,
        root_xpubs: &[XPub],
        quorum: u64,
        alias: &str,
    ) -> Result<Account, WalletError> {
        check_signers(root_xpubs, quorum)?;
        let alias = normalize_alias(alias)?;
        let mut inner = self.lock()?;
        let state = &inner.store.state;
        if state.accounts.values().any(|a| a.alias == alias) {
            return Err(WalletError::DuplicateAccountAlias { alias });
        }
        let set = key_set_id(root_xpubs);
        let counter = account_counter(&set);
        let index = state
            .counters
            .get(&counter)
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
        if index >= HARDENED_KEY_START {
            return Err(WalletError::IndexExhausted {
                what: "account",
                index,
            });
        }
        let account = Account {
            id: random_uuid(),
            alias,
            xpubs: root_xpubs.to_vec(),
            quorum,
            key_index: index,
            derive_rule: crypto::chainkd::path::DeriveRule::Bip0044.to_u8(),
        };
        inner.store.commit(vec![
            Change::Counter(counter, index),
            Change::Account(account.id.clone(), Some(account.clone())),
        ])?;
        Ok(account)
    }

    /// Accounts, all or the one with this ID or alias (`list-accounts`), ordered by alias.
    pub fn list_accounts(&self, id_or_alias: Option<&str>) -> Result<Vec<Account>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        match id_or_alias {
            Some(key) => Ok(vec![find_account(state, key)?.clone()]),
            None => {
                let mut all: Vec<Account> = state.accounts.values().cloned().collect();
                all.sort_by(|a, b| a.alias.cmp(&b.alias).then_with(|| a.id.cmp(&b.id)));
                Ok(all)
            }
        }
    }

    /// Deletes an account and its control programs (`delete-account`); its indexed outputs are
    /// dropped from the index too, as the reference's wallet does.
    pub fn delete_account(&self, id_or_alias: &str) -> Result<(), WalletError> {
        let mut inner = self.lock()?;
        let state = &inner.store.state;
        let account = find_account(state, id_or_alias)?.clone();
        let mut changes = vec![Change::Account(account.id.clone(), None)];
        for (p, cp) in &state.programs {
            if cp.account_id == account.id {
                changes.push(Change::Program(p.clone(), None));
            }
        }
        for (id, u) in &state.utxos {
            if u.account_id == account.id {
                changes.push(Change::Utxo(*id, None));
            }
        }
        inner.store.commit(changes)
    }

    /// A new receive address of an account (`create-account-receiver`).
    pub fn create_receiver(&self, id_or_alias: &str) -> Result<Receiver, WalletError> {
        let mut inner = self.lock()?;
        let cp = self.new_program(&mut inner, id_or_alias, false)?;
        Ok(Receiver {
            control_program: cp.control_program,
            address: cp.address,
        })
    }

    /// Derives and stores the next program of an account on one branch.
    pub(crate) fn new_program(
        &self,
        inner: &mut Inner,
        id_or_alias: &str,
        change: bool,
    ) -> Result<CtrlProgram, WalletError> {
        let state = &inner.store.state;
        let account = find_account(state, id_or_alias)?.clone();
        let counter = address_counter(&account.id, change);
        let index = state
            .counters
            .get(&counter)
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
        let cp = derive_program(&account, change, index, self.profile, self.network)?;
        inner.store.commit(vec![
            Change::Counter(counter, index),
            Change::Program(cp.control_program.clone(), Some(cp.clone())),
        ])?;
        Ok(cp)
    }

    /// Derives and stores every address of an account on one branch up to `up_to` (the reference's
    /// `CreateBatchAddresses`, used to recover a wallet's history).
    pub fn derive_addresses(&self, id_or_alias: &str, change: bool, up_to: u64) -> Result<(), WalletError> {
        let mut inner = self.lock()?;
        let state = &inner.store.state;
        let account = find_account(state, id_or_alias)?.clone();
        let counter = address_counter(&account.id, change);
        let current = state.counters.get(&counter).copied().unwrap_or(0);
        if up_to.saturating_sub(current) > MAX_BATCH_ADDRESSES {
            return Err(WalletError::InvalidArgument {
                what: "address count",
                reason: format!("more than {MAX_BATCH_ADDRESSES} at once"),
            });
        }
        let mut changes = Vec::new();
        for index in current.saturating_add(1)..=up_to {
            let cp = derive_program(&account, change, index, self.profile, self.network)?;
            changes.push(Change::Program(cp.control_program.clone(), Some(cp)));
        }
        if up_to > current {
            changes.push(Change::Counter(counter, up_to));
        }
        inner.store.commit(changes)
    }

    /// The public keys derived so far from the account's first root xpub (`list-pubkeys`): change
    /// addresses, then receive addresses, each by index; only `public_key` (hex) when given.
    pub fn list_pubkeys(
        &self,
        id_or_alias: &str,
        public_key: Option<&str>,
    ) -> Result<AccountPubkeys, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        let account = find_account(state, id_or_alias)?;
        let root = *account
            .xpubs
            .first()
            .ok_or_else(|| WalletError::Internal(format!("account {} has no keys", account.id)))?;
        let mut infos = Vec::new();
        for change in [true, false] {
            let last = state
                .counters
                .get(&address_counter(&account.id, change))
                .copied()
                .unwrap_or(0);
            for index in 1..=last {
                let path = account.path(change, index)?;
                let key = root
                    .derive(&path)
                    .map_err(|e| WalletError::Internal(format!("derive: {e}")))?;
                let pubkey = hex::encode(key.public_key());
                if public_key.is_some_and(|want| !want.eq_ignore_ascii_case(&pubkey)) {
                    continue;
                }
                infos.push(PubKeyInfo {
                    pubkey,
                    derivation_path: path,
                });
            }
        }
        if infos.is_empty() {
            return Err(WalletError::PublicKeyNotFound(id_or_alias.to_string()));
        }
        Ok(AccountPubkeys {
            root_xpub: root,
            pubkey_infos: infos,
        })
    }

    /// The addresses of one account or all, ordered by address index, paged (`list-addresses`).
    pub fn list_addresses(
        &self,
        id_or_alias: Option<&str>,
        from: usize,
        count: usize,
    ) -> Result<Vec<AddressInfo>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        let only = match id_or_alias {
            Some(k) => Some(find_account(state, k)?.id.clone()),
            None => None,
        };
        let mut out: Vec<AddressInfo> = state
            .programs
            .values()
            .filter(|cp| only.as_ref().is_none_or(|id| *id == cp.account_id))
            .map(|cp| AddressInfo {
                account_alias: state
                    .accounts
                    .get(&cp.account_id)
                    .map(|a| a.alias.clone())
                    .unwrap_or_default(),
                account_id: cp.account_id.clone(),
                address: cp.address.clone(),
                control_program: cp.control_program.clone(),
                change: cp.change,
                key_index: cp.key_index,
            })
            .collect();
        // The reference sorts by key index only (stable over its store order); we add the branch and
        // account so that the order is fully determined.
        out.sort_by(|a, b| {
            (a.key_index, a.account_id.as_str(), !a.change).cmp(&(
                b.key_index,
                b.account_id.as_str(),
                !b.change,
            ))
        });
        Ok(page(out, from, count))
    }

    /// Whether an address is valid on this chain and whether it is ours (`validate-address`).
    pub fn validate_address(&self, address: &str) -> AddressValidity {
        match address_to_program(address, self.profile, self.network) {
            Err(_) => AddressValidity {
                valid: false,
                is_local: false,
            },
            Ok(program) => {
                let is_local = self
                    .lock()
                    .map(|i| i.store.state.programs.contains_key(&program))
                    .unwrap_or(false);
                AddressValidity {
                    valid: true,
                    is_local,
                }
            }
        }
    }

    // ----- index -----

    /// Indexes a block. Applying a block already indexed (within the last [`UNDO_DEPTH`] blocks) again
    /// is a no-op; a block that does not extend the indexed tip is refused. The first block indexed may
    /// be at any height.
    pub fn apply_block(&self, block: &Block) -> Result<(), WalletError> {
        let mut inner = self.lock()?;
        let state = &inner.store.state;
        let height = block.header().height;
        let hash = block.hash();
        if let Some((tip_height, tip_hash)) = state.tip {
            if height <= tip_height && state.undo.get(&height).is_some_and(|u| u.block_hash == hash) {
                return Ok(());
            }
            if height != tip_height.saturating_add(1) || block.header().previous_block_hash != tip_hash {
                return Err(WalletError::NotNextBlock {
                    height,
                    hash,
                    tip: state.tip,
                });
            }
        }
        let changes = block_changes(
            state,
            block,
            self.profile,
            self.network,
            self.maturity(),
            UNDO_DEPTH,
        )?;
        inner.store.commit(changes)?;
        // A spend in a block settles its reservation.
        for tx in block.transactions() {
            for id in spent_ids(tx) {
                inner.reserver.release_output(&id);
            }
        }
        Ok(())
    }

    /// Takes the indexed tip block back out (a reorg). `block` must be the tip.
    pub fn unwind_block(&self, block: &Block) -> Result<(), WalletError> {
        let mut inner = self.lock()?;
        let changes = unwind_changes(&inner.store.state, block)?;
        inner.store.commit(changes)
    }

    /// Takes the indexed tip block back out from its undo record alone, without its body (a reorg
    /// whose disconnected block the node no longer holds). Returns the block unwound (height, hash),
    /// or `None` if nothing is indexed. Fails with [`WalletError::UnwindTooDeep`] past the undo
    /// history.
    pub fn unwind_tip(&self) -> Result<Option<(u64, Hash)>, WalletError> {
        let mut inner = self.lock()?;
        let Some((height, hash)) = inner.store.state.tip else {
            return Ok(None);
        };
        let changes = unwind_tip_changes(&inner.store.state, height, hash)?;
        inner.store.commit(changes)?;
        Ok(Some((height, hash)))
    }

    /// The indexed tip (height, hash).
    pub fn indexed_tip(&self) -> Result<Option<(u64, Hash)>, WalletError> {
        Ok(self.lock()?.store.state.tip)
    }

    /// Outputs currently held by reservations (after dropping those expired at no particular time:
    /// expiry is applied by [`Wallet::build`] and [`Wallet::expire_reservations`]).
    pub fn reserved_outputs(&self) -> Result<usize, WalletError> {
        Ok(self.lock()?.reserver.reserved_count())
    }

    /// Drops reservations whose expiry is before `now_ms` (the node calls this from its clock).
    pub fn expire_reservations(&self, now_ms: u64) -> Result<(), WalletError> {
        self.lock()?.reserver.expire(now_ms);
        Ok(())
    }

    /// Balances per account and asset (`list-balances`), all accounts or one.
    pub fn balances(&self, id_or_alias: Option<&str>) -> Result<Vec<Balance>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        let only = match id_or_alias {
            Some(k) => Some(find_account(state, k)?.id.clone()),
            None => None,
        };
        let mut sums: std::collections::BTreeMap<(String, [u8; 32]), u64> = std::collections::BTreeMap::new();
        for u in state.utxos.values() {
            if only.as_ref().is_some_and(|id| *id != u.account_id) {
                continue;
            }
            let slot = sums.entry((u.account_id.clone(), u.asset_id.0)).or_insert(0);
            *slot = slot
                .checked_add(u.amount)
                .ok_or(WalletError::AmountRange("balance"))?;
        }
        Ok(sums
            .into_iter()
            .map(|((account_id, asset), amount)| {
                let asset = types::AssetId(asset);
                let (asset_alias, asset_definition) = asset_annotation(state, &asset);
                Balance {
                    account_alias: state
                        .accounts
                        .get(&account_id)
                        .map(|a| a.alias.clone())
                        .unwrap_or_default(),
                    account_id,
                    asset_alias,
                    asset_id: asset.to_hex(),
                    amount,
                    asset_definition,
                }
            })
            .collect())
    }

    /// Unspent outputs (`list-unspent-outputs`), of one account or all, or the one with this ID.
    pub fn unspent_outputs(
        &self,
        id_or_alias: Option<&str>,
        output_id: Option<&Hash>,
    ) -> Result<Vec<WalletUtxo>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        let only = match id_or_alias {
            Some(k) => Some(find_account(state, k)?.id.clone()),
            None => None,
        };
        Ok(state
            .utxos
            .values()
            .filter(|u| only.as_ref().is_none_or(|id| *id == u.account_id))
            .filter(|u| output_id.is_none_or(|id| *id == u.id))
            .map(|u| WalletUtxo {
                asset_alias: asset_annotation(state, &u.asset_id).0,
                ..u.clone()
            })
            .collect())
    }

    /// The annotated history (`list-transactions`, `get-transaction`), newest first.
    pub fn transactions(&self, query: &TxQuery) -> Result<Vec<AnnotatedTx>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        let account = match (&query.account_id, &query.account_alias) {
            (Some(k), _) | (None, Some(k)) => Some(find_account(state, k)?.id.clone()),
            (None, None) => None,
        };
        let count = if query.count == 0 {
            DEFAULT_PAGE
        } else {
            query.count.min(MAX_PAGE)
        };
        Ok(state
            .txs
            .values()
            .rev()
            .filter(|t| query.tx_id.is_none_or(|id| id == t.tx_id))
            .filter(|t| {
                account.as_ref().is_none_or(|id| {
                    t.inputs.iter().any(|i| i.account_id == *id)
                        || t.outputs.iter().any(|o| o.account_id == *id)
                })
            })
            .skip(query.from)
            .take(count)
            .cloned()
            .collect())
    }
}

/// Finds an account by ID, then by (normalized) alias.
pub(crate) fn find_account<'a>(state: &'a State, key: &str) -> Result<&'a Account, WalletError> {
    if let Some(a) = state.accounts.get(key) {
        return Ok(a);
    }
    let alias = key.trim().to_lowercase();
    state
        .accounts
        .values()
        .find(|a| a.alias == alias)
        .ok_or_else(|| WalletError::AccountNotFound(key.to_string()))
}

/// The reference's `getPageRange`: `from` 0 and `count` 0 mean everything, otherwise the items
/// `from..from + count` that exist.
fn page<T>(items: Vec<T>, from: usize, count: usize) -> Vec<T> {
    let count = if from == 0 && count == 0 {
        usize::MAX
    } else {
        count
    };
    items.into_iter().skip(from).take(count).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wallet directory for one test, removed when the test ends (passing or not).
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            Scratch(std::env::temp_dir().join(format!("tributary-wallet-{name}-{}", random_uuid())))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn blocks() -> Vec<Block> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tributary/tests/fixtures/reference/vapor_blocks.json");
        let all: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        [174u64, 175, 176]
            .iter()
            .map(|h| {
                let b = all
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|b| b["block"]["height"] == *h)
                    .unwrap();
                let raw = hex::decode(b["raw_block"].as_str().unwrap()).unwrap();
                Block::decode(&raw, Profile::Side, &types::Limits::default()).unwrap()
            })
            .collect()
    }

    fn addresses() -> serde_json::Value {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tributary/tests/fixtures/reference/addresses.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn state(w: &Wallet) -> State {
        w.lock().unwrap().store.state.clone()
    }

    /// Apply then unwind gives back the exact state, in memory and on disk, for every prefix.
    #[test]
    fn unwind_restores_the_exact_state_in_memory_and_on_disk() {
        let scratch = Scratch::new("unwind");
        let dir = &scratch.0;
        let w = Wallet::open(dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        let a = addresses();
        for acc in a["vapor"]["accounts"].as_array().unwrap() {
            let xpubs: Vec<XPub> = acc["xpubs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| XPub::from_hex(x.as_str().unwrap()).unwrap())
                .collect();
            let alias = acc["alias"].as_str().unwrap();
            w.create_account(&xpubs, acc["quorum"].as_u64().unwrap(), alias)
                .unwrap();
            w.derive_addresses(alias, false, 3).unwrap();
            w.derive_addresses(alias, true, 8).unwrap();
        }
        let blocks = blocks();
        let mut states = vec![state(&w)];
        for b in &blocks {
            w.apply_block(b).unwrap();
            states.push(state(&w));
        }
        assert_ne!(states[0], states[3]);
        assert!(!states[3].utxos.is_empty() && !states[3].txs.is_empty());
        // What is on disk equals what is in memory.
        drop(w);
        let w = Wallet::open(dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        assert_eq!(state(&w), states[3]);
        for (i, b) in blocks.iter().enumerate().rev() {
            w.unwind_block(b).unwrap();
            assert_eq!(state(&w), states[i], "after unwinding block {i}");
        }
        drop(w);
        let w = Wallet::open(dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        assert_eq!(state(&w), states[0]);
        assert_eq!(w.indexed_tip().unwrap(), None);
    }

    /// Unwinding the tip needs only the undo record: the same states as unwinding with the bodies,
    /// in memory and after a reopen.
    #[test]
    fn unwind_tip_needs_no_body() {
        let scratch = Scratch::new("unwind-tip");
        let dir = &scratch.0;
        let w = Wallet::open(dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        let a = addresses();
        for acc in a["vapor"]["accounts"].as_array().unwrap() {
            let xpubs: Vec<XPub> = acc["xpubs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| XPub::from_hex(x.as_str().unwrap()).unwrap())
                .collect();
            let alias = acc["alias"].as_str().unwrap();
            w.create_account(&xpubs, acc["quorum"].as_u64().unwrap(), alias)
                .unwrap();
            w.derive_addresses(alias, false, 3).unwrap();
            w.derive_addresses(alias, true, 8).unwrap();
        }
        let blocks = blocks();
        let mut states = vec![state(&w)];
        for b in &blocks {
            w.apply_block(b).unwrap();
            states.push(state(&w));
        }
        assert!(!states[3].utxos.is_empty());
        let tip = blocks[2].header().height;
        assert_eq!(w.unwind_tip().unwrap(), Some((tip, blocks[2].hash())));
        assert_eq!(state(&w), states[2]);
        drop(w);
        let w = Wallet::open(dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        assert_eq!(state(&w), states[2]);
        assert_eq!(w.unwind_tip().unwrap(), Some((tip - 1, blocks[1].hash())));
        assert_eq!(w.unwind_tip().unwrap(), Some((tip - 2, blocks[0].hash())));
        assert_eq!(state(&w), states[0]);
        assert_eq!(w.unwind_tip().unwrap(), None);
        // The blocks apply again on top.
        w.apply_block(&blocks[0]).unwrap();
        assert_eq!(state(&w), states[1]);
    }

    #[test]
    fn reservations_expire_and_release() {
        let mut r = Reserver::default();
        let (a, b, c) = (Hash([1; 32]), Hash([2; 32]), Hash([3; 32]));
        let id = r.reserve(&[a, b], 100).unwrap();
        assert_eq!(r.reserve(&[b, c], 100), Err(b));
        assert!(r.is_reserved(&a) && !r.is_reserved(&c));
        r.expire(100);
        assert!(
            r.is_reserved(&a),
            "expiry is exclusive, as the reference's Before"
        );
        r.release_output(&a);
        assert!(!r.is_reserved(&a) && r.is_reserved(&b));
        r.expire(101);
        assert!(r.is_empty() && r.reserved_count() == 0);
        let id2 = r.reserve(&[c], 5).unwrap();
        assert_ne!(id, id2);
        r.cancel(id2);
        assert!(!r.is_reserved(&c));
    }
}
