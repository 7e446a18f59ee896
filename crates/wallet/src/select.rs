//! Coin selection (a pure function) and the reservation of selected outputs between build and submit.

use std::collections::BTreeMap;

use types::Hash;

/// A candidate output for selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Output ID.
    pub id: Hash,
    /// Amount.
    pub amount: u64,
    /// First height it may be spent at.
    pub valid_height: u64,
    /// Held by a reservation not yet expired.
    pub reserved: bool,
}

/// The outputs chosen and the change they leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Chosen outputs, largest first.
    pub ids: Vec<Hash>,
    /// Their sum.
    pub total: u64,
    /// `total - amount`.
    pub change: u64,
}

/// Why selection failed. Amounts are sums over the candidates (saturating at `u64::MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// Even every candidate together is not enough.
    #[error("insufficient funds: needed {needed}, available {available}")]
    InsufficientFunds {
        /// Amount asked for.
        needed: u64,
        /// Sum of all candidates.
        available: u64,
    },
    /// Enough only if immature outputs are counted.
    #[error("immature funds: needed {needed}, mature {mature}")]
    Immature {
        /// Amount asked for.
        needed: u64,
        /// Sum of mature candidates (reserved or not).
        mature: u64,
    },
    /// Enough only if reserved outputs are counted.
    #[error("reserved funds: needed {needed}, unreserved {unreserved}")]
    Reserved {
        /// Amount asked for.
        needed: u64,
        /// Sum of mature, unreserved candidates.
        unreserved: u64,
    },
    /// Zero was asked for.
    #[error("amount must be positive")]
    ZeroAmount,
    /// The chosen outputs sum beyond `u64::MAX` (impossible with amounts of at most 2^63 - 1 each).
    #[error("selected outputs sum beyond the amount range")]
    Overflow,
}

fn sum<'a>(it: impl Iterator<Item = &'a Candidate>) -> u64 {
    it.fold(0u64, |acc, c| acc.saturating_add(c.amount))
}

/// Chooses outputs worth at least `amount` at `height`, skipping reserved and immature ones.
///
/// Preference: one output of exactly `amount`; otherwise the fewest outputs that cover it (the largest
/// first), with the last one swapped for the smallest output that still covers the amount, which keeps
/// the change small. Ties are broken by output ID, so the result depends only on the input set.
pub fn select_coins(candidates: &[Candidate], amount: u64, height: u64) -> Result<Selection, SelectError> {
    if amount == 0 {
        return Err(SelectError::ZeroAmount);
    }
    let available = sum(candidates.iter());
    let mature: Vec<&Candidate> = candidates.iter().filter(|c| c.valid_height <= height).collect();
    let mature_sum = sum(mature.iter().copied());
    let mut usable: Vec<&Candidate> = mature
        .iter()
        .copied()
        .filter(|c| !c.reserved && c.amount > 0)
        .collect();
    let usable_sum = sum(usable.iter().copied());
    if available < amount {
        return Err(SelectError::InsufficientFunds {
            needed: amount,
            available,
        });
    }
    if mature_sum < amount {
        return Err(SelectError::Immature {
            needed: amount,
            mature: mature_sum,
        });
    }
    if usable_sum < amount {
        return Err(SelectError::Reserved {
            needed: amount,
            unreserved: usable_sum,
        });
    }
    usable.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.id.cmp(&b.id)));
    if let Some(exact) = usable.iter().rev().find(|c| c.amount == amount) {
        return Ok(Selection {
            ids: vec![exact.id],
            total: amount,
            change: 0,
        });
    }
    // Largest first gives the fewest outputs. Sums in u128 cannot overflow.
    let mut chosen: Vec<&Candidate> = Vec::new();
    let mut total: u128 = 0;
    let mut rest = usable.iter();
    for c in rest.by_ref() {
        chosen.push(c);
        total += u128::from(c.amount);
        if total >= u128::from(amount) {
            break;
        }
    }
    // Swap the last chosen for the smallest remaining one that still covers the amount.
    if let Some(last) = chosen.pop() {
        let base = total - u128::from(last.amount);
        let need = u128::from(amount).saturating_sub(base);
        let better = rest
            .clone()
            .filter(|c| u128::from(c.amount) >= need)
            .min_by(|a, b| a.amount.cmp(&b.amount));
        let pick = match better {
            Some(b) if b.amount < last.amount => b,
            _ => last,
        };
        chosen.push(pick);
        total = base + u128::from(pick.amount);
    }
    let total = u64::try_from(total).map_err(|_| SelectError::Overflow)?;
    Ok(Selection {
        ids: chosen.iter().map(|c| c.id).collect(),
        total,
        change: total - amount,
    })
}

#[derive(Debug, Clone)]
struct Reservation {
    outputs: Vec<Hash>,
    expiry_ms: u64,
}

/// Outputs held for templates between build and submit (the reference's `utxoKeeper` reservations).
/// A reservation ends when it expires, when it is cancelled, or when a block spends its outputs.
/// Held in memory only, as the reference holds them: a restart releases everything.
#[derive(Debug, Default)]
pub struct Reserver {
    next_id: u64,
    reservations: BTreeMap<u64, Reservation>,
    reserved: BTreeMap<Hash, u64>,
}

impl Reserver {
    /// Drops every reservation whose expiry is before `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        let expired: Vec<u64> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.expiry_ms < now_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.cancel(id);
        }
    }

    /// Whether `output` is held.
    pub fn is_reserved(&self, output: &Hash) -> bool {
        self.reserved.contains_key(output)
    }

    /// Holds `outputs` until `expiry_ms`; returns the reservation's ID. Fails with the first output
    /// already held.
    pub fn reserve(&mut self, outputs: &[Hash], expiry_ms: u64) -> Result<u64, Hash> {
        if let Some(taken) = outputs.iter().find(|o| self.reserved.contains_key(o)) {
            return Err(*taken);
        }
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        for o in outputs {
            self.reserved.insert(*o, id);
        }
        self.reservations.insert(
            id,
            Reservation {
                outputs: outputs.to_vec(),
                expiry_ms,
            },
        );
        Ok(id)
    }

    /// Ends a reservation.
    pub fn cancel(&mut self, id: u64) {
        if let Some(r) = self.reservations.remove(&id) {
            for o in r.outputs {
                self.reserved.remove(&o);
            }
        }
    }

    /// Releases one output (a block spent it); a reservation left with no outputs ends.
    pub fn release_output(&mut self, output: &Hash) {
        if let Some(id) = self.reserved.remove(output) {
            let empty = match self.reservations.get_mut(&id) {
                Some(r) => {
                    r.outputs.retain(|o| o != output);
                    r.outputs.is_empty()
                }
                None => false,
            };
            if empty {
                self.reservations.remove(&id);
            }
        }
    }

    /// Number of outputs held.
    pub fn reserved_count(&self) -> usize {
        self.reserved.len()
    }

    /// Number of live reservations.
    pub fn len(&self) -> usize {
        self.reservations.len()
    }

    /// Whether no reservation is live.
    pub fn is_empty(&self) -> bool {
        self.reservations.is_empty()
    }
}
