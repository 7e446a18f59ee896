//! Standard programs: a program builder, the reference's `vmutil` programs and recognisers, and the
//! witness-program expansion the ledger applies before running a control program
//! (`consensus/segwit` and `protocol/validation/vmcontext.go` in the reference).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::context::VmProfile;
use crate::error::StandardError;
use crate::ops::{Instruction, Op, parse_program};
use crate::types::{as_int64, pushdata_bytes, pushdata_int64};

/// Length of the hash in a pay-to-witness-pubkey-hash program (RIPEMD-160 of the public key).
pub const P2WPKH_HASH_LEN: usize = 20;
/// Length of the hash in a pay-to-witness-script-hash program (SHA3-256 of the script).
pub const P2WSH_HASH_LEN: usize = 32;

/// Builds a program: opcodes, minimal pushes, and jumps to targets placed later or earlier.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    program: Vec<u8>,
    jump_counter: u32,
    jump_addr: BTreeMap<u32, u32>,
    placeholders: BTreeMap<u32, Vec<usize>>,
}

impl Builder {
    /// An empty program.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Appends the minimal push of the number `n`.
    pub fn add_int64(&mut self, n: i64) -> &mut Self {
        self.program.extend_from_slice(&pushdata_int64(n));
        self
    }

    /// Appends the minimal push of `data`.
    pub fn add_data(&mut self, data: &[u8]) -> &mut Self {
        self.program.extend_from_slice(&pushdata_bytes(data));
        self
    }

    /// Appends bytes as they are (no push opcode).
    pub fn add_raw_bytes(&mut self, data: &[u8]) -> &mut Self {
        self.program.extend_from_slice(data);
        self
    }

    /// Appends one opcode.
    pub fn add_op(&mut self, op: Op) -> &mut Self {
        self.program.push(op.0);
        self
    }

    /// Allocates a new jump-target number for [`Builder::add_jump`] and [`Builder::set_jump_target`].
    pub fn new_jump_target(&mut self) -> u32 {
        self.jump_counter = self.jump_counter.wrapping_add(1);
        self.jump_counter
    }

    /// Appends `JUMP` to `target`, whose address is filled in by [`Builder::build`].
    pub fn add_jump(&mut self, target: u32) -> &mut Self {
        self.add_jump_op(Op::JUMP, target)
    }

    /// Appends `JUMPIF` to `target`, whose address is filled in by [`Builder::build`].
    pub fn add_jump_if(&mut self, target: u32) -> &mut Self {
        self.add_jump_op(Op::JUMPIF, target)
    }

    fn add_jump_op(&mut self, op: Op, target: u32) -> &mut Self {
        self.add_op(op);
        self.placeholders
            .entry(target)
            .or_default()
            .push(self.program.len());
        self.add_raw_bytes(&[0; 4])
    }

    /// Makes `target` the current end of the program: jumps to it land on the next instruction added.
    pub fn set_jump_target(&mut self, target: u32) -> &mut Self {
        let here = u32::try_from(self.program.len()).unwrap_or(u32::MAX);
        self.jump_addr.insert(target, here);
        self
    }

    /// The program with every jump address filled in; fails if a used target was never set.
    pub fn build(&self) -> Result<Vec<u8>, StandardError> {
        let mut program = self.program.clone();
        for (target, places) in &self.placeholders {
            let addr = self
                .jump_addr
                .get(target)
                .ok_or(StandardError::UnresolvedJump(*target))?;
            for place in places {
                if let Some(slot) = program.get_mut(*place..*place + 4) {
                    slot.copy_from_slice(&addr.to_le_bytes());
                }
            }
        }
        Ok(program)
    }
}

/// Whether the program can never be satisfied because it starts with `FAIL` (retirements).
pub fn is_unspendable(prog: &[u8]) -> bool {
    prog.first() == Some(&Op::FAIL.0)
}

/// Whether `prog` is a retirement program (see [`retire_program`]); the same test as [`is_unspendable`].
pub fn is_retirement(prog: &[u8]) -> bool {
    is_unspendable(prog)
}

/// The coinbase control program: a lone `TRUE`.
pub fn default_coinbase_program() -> Vec<u8> {
    vec![Op::TRUE.0]
}

/// Pay to witness public-key hash: `0 <hash>` (`00 14 <hash160>` for a 20-byte hash).
pub fn p2wpkh_program(hash: &[u8]) -> Vec<u8> {
    let mut b = Builder::new();
    b.add_int64(0).add_data(hash);
    b.program
}

/// Pay to witness script hash: `0 <hash>` (`00 20 <sha3>` for a 32-byte hash).
pub fn p2wsh_program(hash: &[u8]) -> Vec<u8> {
    p2wpkh_program(hash)
}

/// Retirement: `FAIL`, followed by the push of `comment` when there is one.
pub fn retire_program(comment: &[u8]) -> Vec<u8> {
    let mut b = Builder::new();
    b.add_op(Op::FAIL);
    if !comment.is_empty() {
        b.add_data(comment);
    }
    b.program
}

/// `DUP HASH160 <hash> EQUALVERIFY TXSIGHASH SWAP CHECKSIG`: what a P2WPKH program runs as.
pub fn p2pkh_sig_program(pubkey_hash: &[u8]) -> Vec<u8> {
    let mut b = Builder::new();
    b.add_op(Op::DUP)
        .add_op(Op::HASH160)
        .add_data(pubkey_hash)
        .add_op(Op::EQUALVERIFY);
    b.add_op(Op::TXSIGHASH).add_op(Op::SWAP).add_op(Op::CHECKSIG);
    b.program
}

/// `DUP SHA3 <hash> EQUALVERIFY -1 SWAP 0 CHECKPREDICATE`: what a P2WSH program runs as (the script
/// is the last argument and runs over all the others).
pub fn p2sh_program(script_hash: &[u8]) -> Vec<u8> {
    let mut b = Builder::new();
    b.add_op(Op::DUP)
        .add_op(Op::SHA3)
        .add_data(script_hash)
        .add_op(Op::EQUALVERIFY);
    b.add_int64(-1)
        .add_op(Op::SWAP)
        .add_int64(0)
        .add_op(Op::CHECKPREDICATE);
    b.program
}

/// The reference's checks of an M-of-N quorum.
pub fn check_multisig_params(nrequired: i64, npubkeys: i64) -> Result<(), StandardError> {
    if nrequired < 0 {
        return Err(StandardError::BadValue("negative quorum"));
    }
    if npubkeys < 0 {
        return Err(StandardError::BadValue("negative pubkey count"));
    }
    if nrequired > npubkeys {
        return Err(StandardError::BadValue("quorum too big"));
    }
    if nrequired == 0 && npubkeys > 0 {
        return Err(StandardError::BadValue("quorum empty with non-empty pubkey list"));
    }
    Ok(())
}

fn add_p2sp_multisig<K: AsRef<[u8]>>(
    b: &mut Builder,
    pubkeys: &[K],
    nrequired: i64,
) -> Result<(), StandardError> {
    let npubkeys = i64::try_from(pubkeys.len()).map_err(|_| StandardError::BadValue("too many pubkeys"))?;
    check_multisig_params(nrequired, npubkeys)?;
    b.add_op(Op::TXSIGHASH);
    for key in pubkeys {
        b.add_data(key.as_ref());
    }
    b.add_int64(nrequired)
        .add_int64(npubkeys)
        .add_op(Op::CHECKMULTISIG);
    Ok(())
}

/// M-of-N multisig: `TXSIGHASH <pubkey>... <M> <N> CHECKMULTISIG`, after the reference's quorum checks.
pub fn p2sp_multisig_program<K: AsRef<[u8]>>(
    pubkeys: &[K],
    nrequired: i64,
) -> Result<Vec<u8>, StandardError> {
    let mut b = Builder::new();
    add_p2sp_multisig(&mut b, pubkeys, nrequired)?;
    b.build()
}

/// The multisig program preceded by `<height> BLOCKHEIGHT GREATERTHAN VERIFY` when `block_height > 0`
/// (usable only above that height); a negative height is refused.
pub fn p2sp_multisig_program_with_height<K: AsRef<[u8]>>(
    pubkeys: &[K],
    nrequired: i64,
    block_height: i64,
) -> Result<Vec<u8>, StandardError> {
    let mut b = Builder::new();
    if block_height > 0 {
        b.add_int64(block_height)
            .add_op(Op::BLOCKHEIGHT)
            .add_op(Op::GREATERTHAN)
            .add_op(Op::VERIFY);
    } else if block_height < 0 {
        return Err(StandardError::BadValue("negative blockHeight"));
    }
    add_p2sp_multisig(&mut b, pubkeys, nrequired)?;
    b.build()
}

/// Reads back a program made by [`p2sp_multisig_program`] (optionally with the height prefix of
/// [`p2sp_multisig_program_with_height`]): the public keys and the quorum M. Not in the reference;
/// wallets and explorers need it.
pub fn parse_p2sp_multisig_program(prog: &[u8]) -> Result<(Vec<Vec<u8>>, i64), StandardError> {
    let insts = parse_program(prog).map_err(StandardError::Parse)?;
    let body = match insts.as_slice() {
        [h, bh, gt, v, rest @ ..]
            if h.is_pushdata()
                && bh.op == Op::BLOCKHEIGHT
                && gt.op == Op::GREATERTHAN
                && v.op == Op::VERIFY =>
        {
            rest
        }
        all => all,
    };
    let [first, keys @ .., m, n, last] = body else {
        return Err(StandardError::MultisigFormat);
    };
    if first.op != Op::TXSIGHASH || last.op != Op::CHECKMULTISIG || !m.is_pushdata() || !n.is_pushdata() {
        return Err(StandardError::MultisigFormat);
    }
    let number = |i: &Instruction| as_int64(&i.data).map_err(|_| StandardError::MultisigFormat);
    let (m, n) = (number(m)?, number(n)?);
    if i64::try_from(keys.len()).ok() != Some(n)
        || keys.iter().any(|k| !k.is_pushdata() || k.data.len() != 32)
    {
        return Err(StandardError::MultisigFormat);
    }
    check_multisig_params(m, n)?;
    Ok((keys.iter().map(|k| k.data.clone()).collect(), m))
}

/// The height `H` of an issuance program starting `<H> BLOCKHEIGHT GREATERTHAN VERIFY`, else 0.
pub fn get_issuance_program_restrict_height(program: &[u8]) -> i64 {
    let Ok(insts) = parse_program(program) else {
        return 0;
    };
    match insts.as_slice() {
        [h, bh, gt, v, ..]
            if h.is_pushdata()
                && bh.op == Op::BLOCKHEIGHT
                && gt.op == Op::GREATERTHAN
                && v.op == Op::VERIFY =>
        {
            as_int64(&h.data).unwrap_or(0)
        }
        _ => 0,
    }
}

/// Two instructions: a version opcode up to `16` and a `DATA_n` push of exactly `n` bytes.
fn witness_shape(prog: &[u8], push: Op, len: usize) -> Option<Vec<Instruction>> {
    let insts = parse_program(prog).ok()?;
    match insts.as_slice() {
        [version, hash] if version.op <= Op::OP_16 && hash.op == push && hash.data.len() == len => {
            Some(insts)
        }
        _ => None,
    }
}

/// Whether `prog` is pay-to-witness-pubkey-hash: `<version> DATA_20 <20 bytes>` (any version up to 16).
pub fn is_p2wpkh(prog: &[u8]) -> bool {
    witness_shape(prog, Op::DATA_20, P2WPKH_HASH_LEN).is_some()
}

/// Whether `prog` is pay-to-witness-script-hash: `<version> DATA_32 <32 bytes>` (any version up to 16).
pub fn is_p2wsh(prog: &[u8]) -> bool {
    witness_shape(prog, Op::DATA_32, P2WSH_HASH_LEN).is_some()
}

/// Whether `prog` is a single `TRUE` or `FAIL`.
pub fn is_straightforward(prog: &[u8]) -> bool {
    matches!(parse_program(prog).as_deref(), Ok([only]) if only.op == Op::TRUE || only.op == Op::FAIL)
}

/// P2WPKH, P2WSH or straightforward.
pub fn is_p2w_script(prog: &[u8]) -> bool {
    is_p2wpkh(prog) || is_p2wsh(prog) || is_straightforward(prog)
}

/// The P2PKH program a version-0 P2WPKH program stands for; `None` for other versions or shapes.
pub fn convert_p2pkh_sig_program(prog: &[u8]) -> Option<Vec<u8>> {
    let insts = witness_shape(prog, Op::DATA_20, P2WPKH_HASH_LEN)?;
    let [version, hash] = insts.as_slice() else {
        return None;
    };
    (version.op == Op::OP_0).then(|| p2pkh_sig_program(&hash.data))
}

/// The P2SH program a version-0 P2WSH program stands for; `None` for other versions or shapes.
pub fn convert_p2sh_program(prog: &[u8]) -> Option<Vec<u8>> {
    let insts = witness_shape(prog, Op::DATA_32, P2WSH_HASH_LEN)?;
    let [version, hash] = insts.as_slice() else {
        return None;
    };
    (version.op == Op::OP_0).then(|| p2sh_program(&hash.data))
}

/// The hash inside a standard witness program (its second instruction's data).
pub fn get_hash_from_standard_prog(prog: &[u8]) -> Option<Vec<u8>> {
    parse_program(prog).ok()?.into_iter().nth(1).map(|i| i.data)
}

/// The program the VM actually runs for a control or issuance program.
///
/// # Consensus
/// The reference's `witnessProgram` (`protocol/validation/vmcontext.go`): a version-0 P2WPKH program
/// runs as [`p2pkh_sig_program`], a version-0 P2WSH program as [`p2sh_program`], and under the Side
/// profile a P2WMC program as [`p2mc_program`]; anything else runs as it is.
pub fn witness_program(profile: VmProfile, prog: &[u8]) -> Cow<'_, [u8]> {
    if is_p2wpkh(prog) {
        if let Some(p) = convert_p2pkh_sig_program(prog) {
            return Cow::Owned(p);
        }
    } else if is_p2wsh(prog) {
        if let Some(p) = convert_p2sh_program(prog) {
            return Cow::Owned(p);
        }
    } else if profile == VmProfile::Side
        && let Some(p) = convert_p2mc_program(prog)
    {
        return Cow::Owned(p);
    }
    Cow::Borrowed(prog)
}

/// Parameters of Vapor's magnetic (exchange) contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MagneticContractArgs {
    /// Asset the seller wants.
    pub requested_asset: [u8; 32],
    /// Price numerator.
    pub ratio_numerator: i64,
    /// Price denominator.
    pub ratio_denominator: i64,
    /// Program that receives the requested asset.
    pub seller_program: Vec<u8>,
    /// Key that may cancel the offer.
    pub seller_key: Vec<u8>,
}

/// Pay to witness magnetic contract: `0 <asset> <numerator> <denominator> <seller program> <seller key>`.
pub fn p2wmc_program(args: &MagneticContractArgs) -> Vec<u8> {
    let mut b = Builder::new();
    b.add_int64(0).add_data(&args.requested_asset);
    b.add_int64(args.ratio_numerator)
        .add_int64(args.ratio_denominator);
    b.add_data(&args.seller_program).add_data(&args.seller_key);
    b.program
}

/// Whether `prog` has the P2WMC shape (Side profile only).
pub fn is_p2wmc(prog: &[u8]) -> bool {
    decode_p2wmc_program(prog).is_some()
}

/// The magnetic-contract arguments of a P2WMC program, if it is one.
pub fn decode_p2wmc_program(prog: &[u8]) -> Option<MagneticContractArgs> {
    let insts = parse_program(prog).ok()?;
    let [version, asset, num, den, seller_prog, key] = insts.as_slice() else {
        return None;
    };
    let pushes = num.is_pushdata() && den.is_pushdata() && seller_prog.is_pushdata();
    if version.op > Op::OP_16 || asset.op != Op::DATA_32 || asset.data.len() != 32 || !pushes {
        return None;
    }
    let ratio_numerator = as_int64(&num.data).ok()?;
    let ratio_denominator = as_int64(&den.data).ok()?;
    if !is_p2w_script(&seller_prog.data) || key.op != Op::DATA_32 || key.data.len() != 32 {
        return None;
    }
    Some(MagneticContractArgs {
        requested_asset: asset.data.as_slice().try_into().ok()?,
        ratio_numerator,
        ratio_denominator,
        seller_program: seller_prog.data.clone(),
        seller_key: key.data.clone(),
    })
}

/// The magnetic contract a P2WMC program runs as, if it is one.
pub fn convert_p2mc_program(prog: &[u8]) -> Option<Vec<u8>> {
    decode_p2wmc_program(prog).and_then(|args| p2mc_program(&args).ok())
}

/// Vapor's magnetic contract: a partial trade, a full trade (both via `MULFRACTION` and `CHECKOUTPUT`),
/// or a cancel signed by the seller.
pub fn p2mc_program(args: &MagneticContractArgs) -> Result<Vec<u8>, StandardError> {
    use Op as O;
    let standard = p2wmc_program(args);
    let mut b = Builder::new();
    b.add_data(&args.seller_key)
        .add_data(&standard)
        .add_data(&args.seller_program);
    b.add_int64(args.ratio_denominator)
        .add_int64(args.ratio_numerator)
        .add_data(&args.requested_asset);

    let ops = |b: &mut Builder, ops: &[Op]| {
        for op in ops {
            b.add_op(*op);
        }
    };
    // Select the clause: 2 → cancel, 1 → full trade, 0 → partial trade.
    ops(
        &mut b,
        &[
            O::OP_7,
            O::ROLL,
            O::TOALTSTACK,
            O::OP_6,
            O::ROLL,
            O::DUP,
            O::OP_2,
            O::NUMEQUAL,
        ],
    );
    b.add_jump_if(0).add_jump_if(1);
    // Partial trade.
    ops(
        &mut b,
        &[
            O::OP_6,
            O::PICK,
            O::OP_3,
            O::ROLL,
            O::OP_3,
            O::ROLL,
            O::MULFRACTION,
            O::AMOUNT,
            O::OVER,
        ],
    );
    ops(
        &mut b,
        &[
            O::OP_0,
            O::GREATERTHANOREQUAL,
            O::OP_2,
            O::PICK,
            O::ROT,
            O::LESSTHAN,
            O::BOOLAND,
            O::VERIFY,
        ],
    );
    ops(
        &mut b,
        &[O::FROMALTSTACK, O::DUP, O::TOALTSTACK, O::OP_6, O::ROLL],
    );
    b.add_int64(999).add_int64(1000);
    ops(
        &mut b,
        &[
            O::MULFRACTION,
            O::OP_3,
            O::ROLL,
            O::OP_1,
            O::OP_5,
            O::ROLL,
            O::CHECKOUTPUT,
            O::VERIFY,
        ],
    );
    ops(
        &mut b,
        &[
            O::FROMALTSTACK,
            O::OP_1,
            O::ADD,
            O::AMOUNT,
            O::ROT,
            O::SUB,
            O::ASSET,
            O::OP_1,
            O::OP_4,
        ],
    );
    ops(&mut b, &[O::ROLL, O::CHECKOUTPUT]);
    b.add_jump(2);
    // Full trade.
    b.set_jump_target(1);
    ops(&mut b, &[O::AMOUNT, O::ROT, O::OP_3, O::ROLL, O::MULFRACTION]);
    b.add_int64(999).add_int64(1000);
    ops(
        &mut b,
        &[
            O::MULFRACTION,
            O::DUP,
            O::OP_0,
            O::GREATERTHANOREQUAL,
            O::VERIFY,
            O::FROMALTSTACK,
            O::SWAP,
        ],
    );
    ops(&mut b, &[O::ROT, O::OP_1, O::OP_4, O::ROLL, O::CHECKOUTPUT]);
    b.add_jump(3);
    // Cancel.
    b.set_jump_target(0);
    ops(
        &mut b,
        &[
            O::DROP,
            O::OP_6,
            O::ROLL,
            O::OP_6,
            O::ROLL,
            O::TXSIGHASH,
            O::SWAP,
            O::CHECKSIG,
        ],
    );
    b.set_jump_target(2).set_jump_target(3);
    b.build()
}
