//! Asset classes (BAP-01 … BAP-04) and how an asset definition declares its class.
//!
//! An asset's definition is arbitrary bytes (usually a JSON object) carried by its issuance input and
//! hashed into its [`crate::AssetId`], so an asset ID fixes its class for ever. The class is read from
//! the top-level member [`CLASS_MEMBER`] (`"bap"`) of a definition that is a JSON object:
//!
//! | member value | class |
//! |---|---|
//! | absent | [`AssetClass::Bit`] (every pre-existing asset, BTM included) |
//! | `"BAP-01"` | [`AssetClass::Bit`] |
//! | `"BAP-02"` | [`AssetClass::Atomic`] |
//! | `"BAP-03"` | [`AssetClass::Quark`] |
//! | `"BAP-04"` | [`AssetClass::Quantum`], unit `10^decimals` from the `"decimals"` member (0 when absent) |
//!
//! Parsing is total and bounded: linear in the definition's length, nesting at most [`MAX_DEPTH`].
//! A definition that claims nothing (no `"bap"` member, or bytes that are not JSON and do not look
//! like a `"bap":` member) is BAP-01. A definition that claims a class but is malformed (the member
//! is not one of the four codes, appears twice, is not a string, `"decimals"` of a BAP-04 asset is
//! not an integer in `0..=`[`MAX_QUANTUM_DECIMALS`], or the bytes are not a valid JSON object but
//! contain a `"bap":` member) is an error: consensus rejects the transaction carrying it.

/// The name of the definition member declaring the class.
pub const CLASS_MEMBER: &str = "bap";
/// The name of the definition member giving a BAP-04 asset's unit as a power of ten.
pub const DECIMALS_MEMBER: &str = "decimals";
/// Largest `decimals` of a BAP-04 asset (`10^18` still fits an amount, which is at most `i64::MAX`).
pub const MAX_QUANTUM_DECIMALS: u8 = 18;
/// Deepest nesting of arrays and objects a definition is parsed through.
pub const MAX_DEPTH: usize = 64;

/// The four asset classes of the Bytom Asset Protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetClass {
    /// BAP-01 bit asset: divisible and fungible (tokens, points, equal shares). No restriction.
    Bit,
    /// BAP-02 atomic asset: divisible, non-fungible. Each issuance creates a lot; a lot keeps its
    /// identity when split and is never merged with another lot of the same asset.
    Atomic,
    /// BAP-03 quark asset: indivisible, non-fungible. One unique item: issued once, amount 1.
    Quark,
    /// BAP-04 quantum asset: indivisible, fungible. Every amount is a whole number of units of
    /// `10^decimals`.
    Quantum {
        /// The unit is `10^decimals` (at most [`MAX_QUANTUM_DECIMALS`]).
        decimals: u8,
    },
}

impl AssetClass {
    /// The class of a raw asset definition; see the module documentation for the rules.
    ///
    /// # Consensus
    /// Tributary's BAP encoding (`docs/assets.md`); the reference chains do not read definitions.
    pub fn from_definition(definition: &[u8]) -> Result<AssetClass, DefinitionError> {
        let top = match parse_top(definition) {
            Ok(top) => top,
            Err(e) if claims_class(definition) => return Err(e),
            Err(_) => return Ok(AssetClass::Bit),
        };
        let Some(value) = top.class else {
            return Ok(AssetClass::Bit);
        };
        if top.class_count > 1 {
            return Err(DefinitionError::DuplicateMember { member: CLASS_MEMBER });
        }
        let Value::Str(code) = value else {
            return Err(DefinitionError::NotAString);
        };
        match code.as_str() {
            "BAP-01" => Ok(AssetClass::Bit),
            "BAP-02" => Ok(AssetClass::Atomic),
            "BAP-03" => Ok(AssetClass::Quark),
            "BAP-04" => {
                if top.decimals_count > 1 {
                    return Err(DefinitionError::DuplicateMember {
                        member: DECIMALS_MEMBER,
                    });
                }
                let decimals = match top.decimals {
                    None => 0,
                    Some(Value::Int(d)) if d <= u64::from(MAX_QUANTUM_DECIMALS) => {
                        u8::try_from(d).map_err(|_| DefinitionError::Decimals)?
                    }
                    Some(_) => return Err(DefinitionError::Decimals),
                };
                Ok(AssetClass::Quantum { decimals })
            }
            other => Err(DefinitionError::UnknownClass {
                found: other.chars().take(32).collect(),
            }),
        }
    }

    /// The class code: `"BAP-01"` … `"BAP-04"`.
    pub fn code(&self) -> &'static str {
        match self {
            AssetClass::Bit => "BAP-01",
            AssetClass::Atomic => "BAP-02",
            AssetClass::Quark => "BAP-03",
            AssetClass::Quantum { .. } => "BAP-04",
        }
    }

    /// The smallest amount and the step of every amount: `10^decimals` for a quantum asset, 1
    /// otherwise.
    pub fn unit(&self) -> u64 {
        match self {
            AssetClass::Quantum { decimals } => 10u64.saturating_pow(u32::from(*decimals)),
            _ => 1,
        }
    }

    /// Whether an amount may be split into smaller amounts (BAP-01, BAP-02).
    pub fn is_divisible(&self) -> bool {
        matches!(self, AssetClass::Bit | AssetClass::Atomic)
    }

    /// Whether any two units are interchangeable (BAP-01, BAP-04).
    pub fn is_fungible(&self) -> bool {
        matches!(self, AssetClass::Bit | AssetClass::Quantum { .. })
    }

    /// Whether an output (or an issuance) of this class may carry `amount`: exactly 1 for a quark,
    /// a multiple of the unit for a quantum asset, anything otherwise.
    pub fn allows_amount(&self, amount: u64) -> bool {
        match self {
            AssetClass::Quark => amount == 1,
            AssetClass::Quantum { .. } => amount.is_multiple_of(self.unit().max(1)),
            AssetClass::Bit | AssetClass::Atomic => true,
        }
    }
}

impl std::fmt::Display for AssetClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AssetClass::Quantum { decimals } => write!(f, "BAP-04 (unit 10^{decimals})"),
            other => f.write_str(other.code()),
        }
    }
}

/// Why a definition that claims a class is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The definition contains a `"bap":` member but is not a valid JSON object.
    #[error("definition claims a class but is not a valid JSON object ({what} at byte {offset})")]
    Malformed {
        /// Byte offset of the first error.
        offset: usize,
        /// What was wrong there.
        what: &'static str,
    },
    /// A member appears more than once at the top level.
    #[error("definition member \"{member}\" appears more than once")]
    DuplicateMember {
        /// The member.
        member: &'static str,
    },
    /// The `"bap"` member is not a string.
    #[error("definition member \"bap\" is not a string")]
    NotAString,
    /// The `"bap"` member names no class.
    #[error("definition declares unknown class {found:?}")]
    UnknownClass {
        /// The value (at most 32 characters of it).
        found: String,
    },
    /// A BAP-04 definition's `"decimals"` is not an integer from 0 to 18.
    #[error("a BAP-04 definition's \"decimals\" must be an integer from 0 to {MAX_QUANTUM_DECIMALS}")]
    Decimals,
}

/// Whether the raw bytes contain `"bap"`, optional JSON whitespace, then `:` — a class member as a
/// malformed definition would spell it.
fn claims_class(b: &[u8]) -> bool {
    const KEY: &[u8] = b"\"bap\"";
    let mut i = 0;
    while let Some(rest) = b.get(i..) {
        let Some(pos) = rest.windows(KEY.len()).position(|w| w == KEY) else {
            return false;
        };
        let mut j = i + pos + KEY.len();
        while matches!(b.get(j), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            j += 1;
        }
        if b.get(j) == Some(&b':') {
            return true;
        }
        i += pos + 1;
    }
    false
}

/// The top-level members that matter, as parsed from a JSON object.
#[derive(Default)]
struct Top {
    class: Option<Value>,
    class_count: usize,
    decimals: Option<Value>,
    decimals_count: usize,
}

/// A member value, reduced to what the class rules look at.
enum Value {
    Str(String),
    /// A number that is a plain non-negative integer fitting u64.
    Int(u64),
    Other,
}

fn parse_top(b: &[u8]) -> Result<Top, DefinitionError> {
    let s = std::str::from_utf8(b).map_err(|e| DefinitionError::Malformed {
        offset: e.valid_up_to(),
        what: "invalid UTF-8",
    })?;
    let mut p = Parser {
        b: s.as_bytes(),
        pos: 0,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(p.err("not a JSON object"));
    }
    let top = p.object_top()?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(p.err("trailing bytes"));
    }
    Ok(top)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> DefinitionError {
        DefinitionError::Malformed {
            offset: self.pos,
            what,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), DefinitionError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// The top-level object, remembering the class and decimals members.
    fn object_top(&mut self) -> Result<Top, DefinitionError> {
        let mut top = Top::default();
        self.expect(b'{', "expected '{'")?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(top);
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expected ':'")?;
            self.ws();
            let value = self.value(1)?;
            if key == CLASS_MEMBER {
                top.class_count += 1;
                top.class.get_or_insert(value);
            } else if key == DECIMALS_MEMBER {
                top.decimals_count += 1;
                top.decimals.get_or_insert(value);
            }
            self.ws();
            match self.bump() {
                Some(b',') => continue,
                Some(b'}') => return Ok(top),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    /// Any value at nesting `depth` (the top-level object is depth 0).
    fn value(&mut self, depth: usize) -> Result<Value, DefinitionError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Other);
                }
                loop {
                    self.ws();
                    self.string()?;
                    self.ws();
                    self.expect(b':', "expected ':'")?;
                    self.ws();
                    self.value(depth + 1)?;
                    self.ws();
                    match self.bump() {
                        Some(b',') => continue,
                        Some(b'}') => return Ok(Value::Other),
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Other);
                }
                loop {
                    self.ws();
                    self.value(depth + 1)?;
                    self.ws();
                    match self.bump() {
                        Some(b',') => continue,
                        Some(b']') => return Ok(Value::Other),
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expected a value")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<Value, DefinitionError> {
        let end = self.pos.saturating_add(word.len());
        if self.b.get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(Value::Other)
        } else {
            Err(self.err("bad literal"))
        }
    }

    /// A JSON number; [`Value::Int`] when it is digits only and fits u64.
    fn number(&mut self) -> Result<Value, DefinitionError> {
        let start = self.pos;
        let mut plain = true;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            plain = false;
        }
        match self.bump() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            plain = false;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            plain = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        if !plain {
            return Ok(Value::Other);
        }
        let text = self.b.get(start..self.pos).unwrap_or_default();
        Ok(std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(Value::Other, Value::Int))
    }

    fn digits(&mut self) -> Result<(), DefinitionError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("expected a digit"));
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        Ok(())
    }

    /// A JSON string, decoded (escapes resolved; a lone surrogate becomes U+FFFD).
    fn string(&mut self) -> Result<String, DefinitionError> {
        self.expect(b'"', "expected a string")?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => break,
                b'\\' => match self.bump() {
                    Some(b'"') => out.push(b'"'),
                    Some(b'\\') => out.push(b'\\'),
                    Some(b'/') => out.push(b'/'),
                    Some(b'b') => out.push(8),
                    Some(b'f') => out.push(12),
                    Some(b'n') => out.push(b'\n'),
                    Some(b'r') => out.push(b'\r'),
                    Some(b't') => out.push(b'\t'),
                    Some(b'u') => {
                        let hi = self.hex4()?;
                        let ch = if (0xD800..0xDC00).contains(&hi)
                            && self.b.get(self.pos..self.pos.saturating_add(2)) == Some(b"\\u")
                        {
                            let save = self.pos;
                            self.pos += 2;
                            let lo = self.hex4()?;
                            if (0xDC00..0xE000).contains(&lo) {
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp).unwrap_or('\u{FFFD}')
                            } else {
                                self.pos = save;
                                '\u{FFFD}'
                            }
                        } else {
                            char::from_u32(hi).unwrap_or('\u{FFFD}')
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => return Err(self.err("bad escape")),
                },
                0..=0x1f => return Err(self.err("control character in string")),
                other => out.push(other),
            }
        }
        // The input is valid UTF-8 and escapes add whole characters, so this cannot fail.
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }

    fn hex4(&mut self) -> Result<u32, DefinitionError> {
        let mut v: u32 = 0;
        for _ in 0..4 {
            let d = match self.bump() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("bad \\u escape")),
            };
            v = (v << 4) | u32::from(d);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Result<AssetClass, DefinitionError> {
        AssetClass::from_definition(s.as_bytes())
    }

    #[test]
    fn no_claim_is_bit() {
        for d in [
            "",
            "not json",
            "{}",
            r#"{"name":"GOLD","decimals":8,"description":{}}"#,
            r#"{"name":"bap"}"#,
            r#"{"nested":{"bap":"BAP-03"}}"#,
            "\u{0}\u{1}\u{2}",
            r#"{"name":"x","#,
            "[1,2,3]",
        ] {
            assert_eq!(class(d), Ok(AssetClass::Bit), "{d:?}");
        }
        assert_eq!(
            AssetClass::from_definition(&[0xff, 0xfe, 0x00]),
            Ok(AssetClass::Bit)
        );
    }

    #[test]
    fn each_class() {
        assert_eq!(class(r#"{"bap":"BAP-01"}"#), Ok(AssetClass::Bit));
        assert_eq!(class(r#"{"name":"lot","bap":"BAP-02"}"#), Ok(AssetClass::Atomic));
        assert_eq!(class(r#" { "bap" : "BAP-03" } "#), Ok(AssetClass::Quark));
        assert_eq!(
            class(r#"{"bap":"BAP-04"}"#),
            Ok(AssetClass::Quantum { decimals: 0 })
        );
        assert_eq!(
            class(r#"{"decimals":2,"bap":"BAP-04"}"#),
            Ok(AssetClass::Quantum { decimals: 2 })
        );
        assert_eq!(class(r#"{"\u0062ap":"BAP-03"}"#), Ok(AssetClass::Quark));
        assert_eq!(class(r#"{"bap":"BAP-0\u0033"}"#), Ok(AssetClass::Quark));
        assert_eq!(AssetClass::Quantum { decimals: 2 }.unit(), 100);
        assert_eq!(
            AssetClass::Quantum {
                decimals: MAX_QUANTUM_DECIMALS
            }
            .unit(),
            1_000_000_000_000_000_000
        );
    }

    #[test]
    fn claimed_but_malformed_is_rejected() {
        assert!(matches!(
            class(r#"{"bap":"BAP-03""#),
            Err(DefinitionError::Malformed { .. })
        ));
        assert!(matches!(
            class(r#"{"bap": "BAP-03",}"#),
            Err(DefinitionError::Malformed { .. })
        ));
        assert!(matches!(
            class(r#"[{"bap":"BAP-03"}]"#),
            Err(DefinitionError::Malformed { .. })
        ));
        assert!(matches!(
            class(r#"{"bap":"BAP-05"}"#),
            Err(DefinitionError::UnknownClass { .. })
        ));
        assert!(matches!(
            class(r#"{"bap":"bap-03"}"#),
            Err(DefinitionError::UnknownClass { .. })
        ));
        assert_eq!(class(r#"{"bap":3}"#), Err(DefinitionError::NotAString));
        assert_eq!(
            class(r#"{"bap":"BAP-03","bap":"BAP-03"}"#),
            Err(DefinitionError::DuplicateMember { member: "bap" })
        );
        for d in ["-1", "19", "2.0", "1e1", "\"2\"", "null"] {
            let def = format!(r#"{{"bap":"BAP-04","decimals":{d}}}"#);
            assert_eq!(class(&def), Err(DefinitionError::Decimals), "{def}");
        }
        assert_eq!(
            class(r#"{"bap":"BAP-04","decimals":1,"decimals":2}"#),
            Err(DefinitionError::DuplicateMember { member: "decimals" })
        );
        // Decimals only matter for BAP-04.
        assert_eq!(
            class(r#"{"bap":"BAP-02","decimals":"x"}"#),
            Ok(AssetClass::Atomic)
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(class(&deep), Ok(AssetClass::Bit));
        let claimed = format!(
            "{{\"bap\":\"BAP-03\",\"a\":{}{}}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(matches!(class(&claimed), Err(DefinitionError::Malformed { .. })));
        let ok = format!(
            "{{\"bap\":\"BAP-03\",\"a\":{}{}}}",
            "[".repeat(60),
            "]".repeat(60)
        );
        assert_eq!(class(&ok), Ok(AssetClass::Quark));
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            ".{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any bytes: no panic, and the answer never depends on anything but the bytes.
        #[test]
        fn arbitrary_bytes_are_total(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let first = AssetClass::from_definition(&b);
            proptest::prop_assert_eq!(first, AssetClass::from_definition(&b));
        }

        /// Every JSON object another encoder writes is read as JSON: without a "bap" member it is
        /// BAP-01 whatever it holds; with one naming a class, it is that class.
        #[test]
        fn objects_written_by_serde_json(
            members in proptest::collection::btree_map("[a-z]{0,6}", json_value(), 0..6),
            code in 0usize..4,
            decimals in 0u8..=MAX_QUANTUM_DECIMALS,
            pretty in proptest::prelude::any::<bool>(),
        ) {
            let mut obj: serde_json::Map<String, serde_json::Value> =
                members.into_iter().filter(|(k, _)| k != "bap" && k != "decimals").collect();
            let write = |o: &serde_json::Map<String, serde_json::Value>| {
                if pretty { serde_json::to_vec_pretty(o).unwrap() } else { serde_json::to_vec(o).unwrap() }
            };
            proptest::prop_assert_eq!(AssetClass::from_definition(&write(&obj)), Ok(AssetClass::Bit));
            let codes = ["BAP-01", "BAP-02", "BAP-03", "BAP-04"];
            obj.insert("bap".into(), serde_json::Value::from(codes[code]));
            obj.insert("decimals".into(), serde_json::Value::from(decimals));
            let expected = match code {
                0 => AssetClass::Bit,
                1 => AssetClass::Atomic,
                2 => AssetClass::Quark,
                _ => AssetClass::Quantum { decimals },
            };
            proptest::prop_assert_eq!(AssetClass::from_definition(&write(&obj)), Ok(expected));
        }
    }

    #[test]
    fn amounts() {
        assert!(AssetClass::Quark.allows_amount(1));
        assert!(!AssetClass::Quark.allows_amount(2));
        assert!(!AssetClass::Quark.allows_amount(0));
        let q = AssetClass::Quantum { decimals: 2 };
        assert!(q.allows_amount(300) && q.allows_amount(0));
        assert!(!q.allows_amount(301));
        assert!(AssetClass::Bit.allows_amount(7) && AssetClass::Atomic.allows_amount(7));
    }
}
