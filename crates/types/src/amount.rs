//! Checked amounts. The reference caps every amount at 2^63-1 (it reads them as 63-bit varints) and
//! treats overflow in sums as an error; here that is a type and a typed error.

use std::collections::BTreeMap;
use std::fmt;

use crate::asset::AssetId;

/// An amount of some asset, at most [`Amount::MAX`] (2^63-1) base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

/// Why an amount operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// A raw value above 2^63-1.
    #[error("amount {value} is above the maximum 2^63-1")]
    TooLarge {
        /// The value offered.
        value: u64,
    },
    /// A sum above 2^63-1.
    #[error("amount overflow: {left} + {right} is above 2^63-1")]
    Overflow {
        /// Left operand.
        left: u64,
        /// Right operand.
        right: u64,
    },
    /// A difference below zero.
    #[error("amount underflow: {left} - {right} is below zero")]
    Underflow {
        /// Left operand.
        left: u64,
        /// Right operand.
        right: u64,
    },
}

impl Amount {
    /// The largest amount: 2^63-1.
    pub const MAX: Amount = Amount(i64::MAX as u64);
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// Checks the range.
    pub fn new(value: u64) -> Result<Amount, AmountError> {
        if value > Self::MAX.0 {
            return Err(AmountError::TooLarge { value });
        }
        Ok(Amount(value))
    }

    /// The value in base units.
    pub fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, failing above the maximum.
    pub fn checked_add(self, other: Amount) -> Result<Amount, AmountError> {
        self.0
            .checked_add(other.0)
            .filter(|v| *v <= Self::MAX.0)
            .map(Amount)
            .ok_or(AmountError::Overflow {
                left: self.0,
                right: other.0,
            })
    }

    /// `self - other`, failing below zero.
    pub fn checked_sub(self, other: Amount) -> Result<Amount, AmountError> {
        self.0
            .checked_sub(other.0)
            .map(Amount)
            .ok_or(AmountError::Underflow {
                left: self.0,
                right: other.0,
            })
    }

    /// The sum of all amounts, failing as soon as a partial sum exceeds the maximum.
    pub fn sum<I: IntoIterator<Item = Amount>>(amounts: I) -> Result<Amount, AmountError> {
        amounts.into_iter().try_fold(Amount::ZERO, Amount::checked_add)
    }
}

impl TryFrom<u64> for Amount {
    type Error = AmountError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Amount::new(value)
    }
}

impl From<Amount> for u64 {
    fn from(a: Amount) -> u64 {
        a.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Per-asset totals.
pub type AssetTotals = BTreeMap<AssetId, Amount>;

/// Sums `(asset, amount)` pairs per asset, failing if any asset's total exceeds 2^63-1.
pub fn sum_by_asset<I: IntoIterator<Item = (AssetId, Amount)>>(
    values: I,
) -> Result<AssetTotals, AmountError> {
    let mut totals = AssetTotals::new();
    for (asset, amount) in values {
        let slot = totals.entry(asset).or_insert(Amount::ZERO);
        *slot = slot.checked_add(amount)?;
    }
    Ok(totals)
}
