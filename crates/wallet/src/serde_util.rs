//! JSON forms of our byte types as the reference prints them: lower-case hex strings.

/// Byte strings as hex (the reference's `HexBytes`); `null` reads as empty.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes lower-case hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Reads hex of either case; `null` is empty.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(s) => hex::decode(s.as_ref()).map_err(serde::de::Error::custom),
        }
    }
}

/// A list of byte strings as a list of hex strings.
pub mod hex_list {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    /// Writes a list of lower-case hex strings.
    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for b in list {
            seq.serialize_element(&hex::encode(b))?;
        }
        seq.end()
    }

    /// Reads a list of hex strings; `null` is an empty list, a `null` element an empty string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let list = Option::<Vec<Option<String>>>::deserialize(d)?.unwrap_or_default();
        list.into_iter()
            .map(|s| hex::decode(s.unwrap_or_default()).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A 32-byte hash as 64 hex characters.
pub mod hash {
    use serde::{Deserialize, Deserializer, Serializer};
    use types::Hash;

    /// Writes the hash as hex.
    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&h.to_hex())
    }

    /// Reads 64 hex characters.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// An optional hash; `None` is written as `null` and read from `null` or a missing field.
pub mod opt_hash {
    use serde::{Deserialize, Deserializer, Serializer};
    use types::Hash;

    /// Writes the hash as hex or `null`.
    pub fn serialize<S: Serializer>(h: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
        match h {
            Some(h) => s.serialize_str(&h.to_hex()),
            None => s.serialize_none(),
        }
    }

    /// Reads 64 hex characters or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Hash>, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
            None => Ok(None),
            Some(s) => Hash::from_hex(&s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// An asset ID as 64 hex characters.
pub mod asset_id {
    use serde::{Deserialize, Deserializer, Serializer};
    use types::AssetId;

    /// Writes the asset ID as hex.
    pub fn serialize<S: Serializer>(a: &AssetId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&a.to_hex())
    }

    /// Reads 64 hex characters.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AssetId, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        AssetId::from_hex(&s).map_err(serde::de::Error::custom)
    }
}
