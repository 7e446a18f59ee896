//! DPoS elections derived from the sidechain ledger.
