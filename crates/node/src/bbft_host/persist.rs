//! Durable storage of the consensus core's [`PersistedState`]: a small file written atomically
//! (temporary file, `fsync`, rename, `fsync` of the directory), so a crash leaves either the old
//! state or the new one, never a torn one.
//!
//! Format (version 1): `b"TBFT"`, a version byte, then `epoch`, the anchor (`height`, 32-byte id,
//! optional certificate), `last_voted_round`, optional high certificate, the committed height and
//! id, optional proposal, optional end proof. Integers are big-endian `u64`; an optional value is a
//! presence byte then a `u32` length and the `consensus::bbft::codec` bytes of the message.

use std::io::Write;
use std::path::{Path, PathBuf};

use consensus::bbft::{self, Anchor, BlockId, Certificate, Limits, Message, PersistedState, Proposal};

use crate::NodeError;

const MAGIC: &[u8; 4] = b"TBFT";
/// 2: the proposal moved to its own file ([`StateFile`]).
const VERSION: u8 = 2;
const PROPOSAL_MAGIC: &[u8; 4] = b"TBFP";
const PROPOSAL_VERSION: u8 = 1;

/// Encodes a persisted state, all but its proposal (which [`StateFile`] keeps apart).
pub fn encode(s: &PersistedState) -> Vec<u8> {
    let mut w = Vec::with_capacity(512);
    w.extend_from_slice(MAGIC);
    w.push(VERSION);
    w.extend_from_slice(&s.epoch.to_be_bytes());
    w.extend_from_slice(&s.anchor.height.to_be_bytes());
    w.extend_from_slice(&s.anchor.block.0);
    put_opt(&mut w, s.anchor.proof.clone().map(Message::Certificate));
    w.extend_from_slice(&s.last_voted_round.to_be_bytes());
    put_opt(&mut w, s.high_qc.clone().map(Message::Certificate));
    w.extend_from_slice(&s.committed.0.to_be_bytes());
    w.extend_from_slice(&s.committed.1.0);
    put_opt(&mut w, s.end_proof.clone().map(Message::Certificate));
    w
}

/// Encodes the proposal file's content.
pub fn encode_proposal(p: &Proposal) -> Vec<u8> {
    let mut w = Vec::with_capacity(p.payload.len() + 512);
    w.extend_from_slice(PROPOSAL_MAGIC);
    w.push(PROPOSAL_VERSION);
    put_opt(&mut w, Some(Message::Proposal(Box::new(p.clone()))));
    w
}

/// Decodes the proposal file's content (`max_payload` bounds the proposal's block).
pub fn decode_proposal(bytes: &[u8], max_payload: usize) -> Result<Proposal, NodeError> {
    let mut r = Reader {
        b: bytes,
        limits: Limits { max_payload },
    };
    if r.take(4)? != PROPOSAL_MAGIC {
        return Err(bad("not a proposal file"));
    }
    if r.take(1)? != [PROPOSAL_VERSION] {
        return Err(bad("unknown proposal file version"));
    }
    let proposal = r.proposal()?.ok_or_else(|| bad("an empty proposal file"))?;
    if !r.b.is_empty() {
        return Err(bad("trailing bytes in the proposal file"));
    }
    Ok(proposal)
}

fn put_opt(w: &mut Vec<u8>, m: Option<Message>) {
    match m {
        None => w.push(0),
        Some(m) => {
            let bytes = bbft::encode(&m);
            w.push(1);
            w.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
            w.extend_from_slice(&bytes);
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    limits: Limits,
}

fn bad(what: &str) -> NodeError {
    NodeError::Corrupt(format!("the consensus state file: {what}"))
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], NodeError> {
        if self.b.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, NodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    fn id(&mut self) -> Result<BlockId, NodeError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32)?);
        Ok(BlockId(a))
    }

    fn opt(&mut self) -> Result<Option<Message>, NodeError> {
        match self.take(1)?.first() {
            Some(0) => Ok(None),
            Some(1) => {
                let mut a = [0u8; 4];
                a.copy_from_slice(self.take(4)?);
                let len = usize::try_from(u32::from_be_bytes(a)).map_err(|_| bad("length"))?;
                let limits = self.limits;
                let bytes = self.take(len)?;
                bbft::decode(bytes, &limits)
                    .map(Some)
                    .map_err(|e| bad(&format!("message: {e}")))
            }
            _ => Err(bad("presence byte")),
        }
    }

    fn cert(&mut self) -> Result<Option<Certificate>, NodeError> {
        match self.opt()? {
            None => Ok(None),
            Some(Message::Certificate(c)) => Ok(Some(c)),
            Some(_) => Err(bad("expected a certificate")),
        }
    }

    fn proposal(&mut self) -> Result<Option<Proposal>, NodeError> {
        match self.opt()? {
            None => Ok(None),
            Some(Message::Proposal(p)) => Ok(Some(*p)),
            Some(_) => Err(bad("expected a proposal")),
        }
    }
}

/// Decodes a persisted state; its proposal is `None` unless the file is of version 1, which held
/// it inline (see [`StateFile`]).
pub fn decode(bytes: &[u8], max_payload: usize) -> Result<PersistedState, NodeError> {
    let mut r = Reader {
        b: bytes,
        limits: Limits { max_payload },
    };
    if r.take(4)? != MAGIC {
        return Err(bad("not a consensus state file"));
    }
    // Version 1 held the proposal inline; it is read, and the next save writes version 2.
    let version = r.take(1)?.first().copied();
    if version != Some(VERSION) && version != Some(1) {
        return Err(bad("unknown version"));
    }
    let epoch = r.u64()?;
    let anchor = Anchor {
        height: r.u64()?,
        block: r.id()?,
        proof: r.cert()?,
    };
    let last_voted_round = r.u64()?;
    let high_qc = r.cert()?;
    let committed = (r.u64()?, r.id()?);
    let proposal = if version == Some(1) { r.proposal()? } else { None };
    let end_proof = r.cert()?;
    if !r.b.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(PersistedState {
        epoch,
        anchor,
        last_voted_round,
        high_qc,
        committed,
        proposal,
        end_proof,
    })
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> NodeError {
    let what = format!("{what} {}", path.display());
    move |source| NodeError::Io { what, source }
}

/// Writes `bytes` to `path` durably and atomically (a temporary file, `fsync`, rename, `fsync` of
/// the directory).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(bytes).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io("renaming to", path))?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> Result<(), NodeError> {
    if let Some(dir) = path.parent() {
        let d = std::fs::File::open(dir).map_err(io("opening the directory", dir))?;
        d.sync_all().map_err(io("syncing the directory", dir))?;
    }
    Ok(())
}

fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, NodeError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(NodeError::Io {
            what: format!("reading {}", path.display()),
            source,
        }),
    }
}

/// The consensus state on disk: the state file, rewritten and synced on every
/// [`consensus::bbft::Effect::Persist`], and beside it (`<state file>.proposal`) the last
/// proposal this validator signed, rewritten only when that proposal changes.
///
/// The core keeps its last proposal in the state until the epoch ends, and a proposal carries its
/// block: with the proposal inside the state file, every vote of a validator that had led a round
/// rewrote and synced up to 1.5 MB before the vote could leave.
///
/// The proposal file is written before the state file. A crash between the two leaves a proposal
/// newer than the state, which is what the core would have persisted next: it resumes in that
/// proposal's round and re-sends it rather than signing another block there.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    proposal_path: PathBuf,
    /// (epoch, round) of the proposal on disk: a leader signs at most one proposal per round.
    saved_proposal: Option<(u64, u64)>,
}

impl StateFile {
    /// The state at `path` (nothing is read or written yet).
    pub fn new(path: PathBuf) -> StateFile {
        let mut proposal_path = path.clone().into_os_string();
        proposal_path.push(".proposal");
        StateFile {
            path,
            proposal_path: PathBuf::from(proposal_path),
            saved_proposal: None,
        }
    }

    /// Writes `state` durably: its proposal first if that changed since the last save or load.
    pub fn save(&mut self, state: &PersistedState) -> Result<(), NodeError> {
        let key = state.proposal.as_ref().map(|p| (p.epoch, p.round));
        if key != self.saved_proposal {
            match &state.proposal {
                Some(p) => write_durably(&self.proposal_path, &encode_proposal(p))?,
                None => match std::fs::remove_file(&self.proposal_path) {
                    Ok(()) => sync_parent(&self.proposal_path)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(NodeError::Io {
                            what: format!("removing {}", self.proposal_path.display()),
                            source,
                        });
                    }
                },
            }
            self.saved_proposal = key;
        }
        write_durably(&self.path, &encode(state))
    }

    /// The state on disk, or `None` if there is no state file yet (`max_payload` bounds the
    /// proposal's block).
    pub fn load(&mut self, max_payload: usize) -> Result<Option<PersistedState>, NodeError> {
        let Some(bytes) = read_if_present(&self.path)? else {
            return Ok(None);
        };
        let mut state = decode(&bytes, max_payload)?;
        // Only a proposal read from its own file is on disk as such: one read inline from a
        // version 1 state file must be written out by the next save.
        self.saved_proposal = None;
        if let Some(b) = read_if_present(&self.proposal_path)? {
            let p = decode_proposal(&b, max_payload)?;
            self.saved_proposal = Some((p.epoch, p.round));
            state.proposal = Some(p);
        }
        Ok(Some(state))
    }
}

/// Durable copies of the blocks this validator proposed or voted for and that are not committed
/// yet, one file per block (`<id hex>`: height `u64`, parent id, payload), written atomically
/// before the vote or proposal is sent. A certified block is then on the disks of a quorum, so a
/// restart of every validator at once does not lose it (without this, the block the persisted
/// lock certifies could exist nowhere and no leader could extend it).
#[derive(Debug, Clone)]
pub struct BlockDir {
    dir: std::path::PathBuf,
}

/// A block kept in a [`BlockDir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptBlock {
    /// Its id.
    pub id: BlockId,
    /// Its height.
    pub height: u64,
    /// Its parent's id.
    pub parent: BlockId,
    /// Its payload (the block with an empty witness).
    pub payload: Vec<u8>,
}

impl BlockDir {
    /// The directory (created if missing).
    pub fn open(dir: std::path::PathBuf) -> Result<BlockDir, NodeError> {
        std::fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
        Ok(BlockDir { dir })
    }

    fn path(&self, id: &BlockId) -> std::path::PathBuf {
        self.dir.join(hex::encode(id.0))
    }

    /// Keeps a block durably.
    pub fn keep(&self, id: &BlockId, height: u64, parent: &BlockId, payload: &[u8]) -> Result<(), NodeError> {
        let path = self.path(id);
        if path.exists() {
            return Ok(());
        }
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
            f.write_all(&height.to_be_bytes()).map_err(io("writing", &tmp))?;
            f.write_all(&parent.0).map_err(io("writing", &tmp))?;
            f.write_all(payload).map_err(io("writing", &tmp))?;
            f.sync_all().map_err(io("syncing", &tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io("renaming to", &path))?;
        let d = std::fs::File::open(&self.dir).map_err(io("opening the directory", &self.dir))?;
        d.sync_all().map_err(io("syncing the directory", &self.dir))
    }

    /// Forgets a block (committed, or off the committed chain).
    pub fn forget(&self, id: &BlockId) {
        // A file left behind is dropped on the next load (its height is then committed).
        let _ = std::fs::remove_file(self.path(id));
    }

    /// Every kept block whose file reads back (others are skipped with a warning), by height.
    pub fn load(&self) -> Result<Vec<KeptBlock>, NodeError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("listing", &self.dir))? {
            let entry = entry.map_err(io("listing", &self.dir))?;
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| hex::decode(n).ok())
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            else {
                continue;
            };
            let bytes = std::fs::read(entry.path()).map_err(io("reading", &entry.path()))?;
            if bytes.len() < 40 {
                tracing::warn!(file = %entry.path().display(), "a damaged kept block; skipped");
                continue;
            }
            let (head, payload) = bytes.split_at(40);
            let mut h = [0u8; 8];
            h.copy_from_slice(&head[..8]);
            let mut parent = [0u8; 32];
            parent.copy_from_slice(&head[8..40]);
            let kept = KeptBlock {
                id: BlockId(id),
                height: u64::from_be_bytes(h),
                parent: BlockId(parent),
                payload: payload.to_vec(),
            };
            if BlockId::compute(kept.height, &kept.parent, &kept.payload) != kept.id {
                tracing::warn!(file = %entry.path().display(), "a kept block whose id does not match; skipped");
                continue;
            }
            out.push(kept);
        }
        out.sort_by_key(|k| k.height);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use consensus::bbft::{Bitmap, Justify, VoteData};
    use crypto::bls::SecretKey;

    use super::*;

    fn cert(round: u64) -> Certificate {
        let data = VoteData {
            epoch: 0,
            round,
            height: round,
            block: BlockId([u8::try_from(round).unwrap(); 32]),
            parent: BlockId([1; 32]),
            parent_round: round - 1,
            phase: consensus::bbft::Phase::Prepare,
        };
        Certificate {
            signature: SecretKey::from_seed(&[3; 32]).sign(&data.signing_bytes()),
            data,
            signers: Bitmap::one(4, 1),
        }
    }

    #[test]
    fn states_round_trip_through_a_file_and_damage_is_refused() {
        let state = PersistedState {
            epoch: 0,
            anchor: Anchor {
                height: 0,
                block: BlockId([9; 32]),
                proof: None,
            },
            last_voted_round: 7,
            high_qc: Some(cert(6)),
            committed: (4, BlockId([4; 32])),
            proposal: Some(Proposal {
                epoch: 0,
                round: 7,
                height: 6,
                parent: BlockId([5; 32]),
                justify: Justify::Qc(cert(6)),
                tc: None,
                payload: vec![1, 2, 3].into(),
                proposer: 2,
                signature: SecretKey::from_seed(&[2; 32]).sign(b"p"),
            }),
            end_proof: Some(cert(5)),
        };
        // The state file leaves the proposal out; the proposal file holds it.
        let bytes = encode(&state);
        let without = PersistedState {
            proposal: None,
            ..state.clone()
        };
        assert_eq!(decode(&bytes, 1 << 20).unwrap(), without);
        let proposal = state.proposal.clone().unwrap();
        let proposal_bytes = encode_proposal(&proposal);
        assert_eq!(decode_proposal(&proposal_bytes, 1 << 20).unwrap(), proposal);
        assert!(
            decode_proposal(&proposal_bytes, 2).is_err(),
            "the payload bound holds"
        );
        for cut in [0, 4, 5, proposal_bytes.len() - 1] {
            assert!(
                decode_proposal(&proposal_bytes[..cut], 1 << 20).is_err(),
                "cut at {cut}"
            );
        }
        for cut in [0, 4, 5, 20, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
        // A version 1 file (the proposal inline) still reads, proposal included.
        let mut v1 =
            bytes[..bytes.len() - 1 - 4 - bbft::encode(&Message::Certificate(cert(5))).len()].to_vec();
        v1[4] = 1;
        put_opt(&mut v1, Some(Message::Proposal(Box::new(proposal.clone()))));
        put_opt(&mut v1, Some(Message::Certificate(cert(5))));
        assert_eq!(decode(&v1, 1 << 20).unwrap(), state);
        let mut v3 = bytes.clone();
        v3[4] = 3;
        assert!(decode(&v3, 1 << 20).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode(&trailing, 1 << 20).is_err());
        let mut magic = bytes.clone();
        magic[0] ^= 1;
        assert!(decode(&magic, 1 << 20).is_err());

        let dir = std::env::temp_dir().join(format!("tributary-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("consensus.state");
        let mut file = StateFile::new(path.clone());
        assert_eq!(file.load(1 << 20).unwrap(), None);
        file.save(&state).unwrap();
        assert_eq!(
            StateFile::new(path.clone()).load(1 << 20).unwrap(),
            Some(state.clone())
        );
        // The proposal file is written when the proposal changes, not with every save: a later
        // save with the same proposal leaves it alone (its modification time stays).
        let proposal_path = dir.join("consensus.state.proposal");
        let written = std::fs::metadata(&proposal_path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let voted = PersistedState {
            last_voted_round: 8,
            ..state.clone()
        };
        file.save(&voted).unwrap();
        assert_eq!(
            std::fs::metadata(&proposal_path).unwrap().modified().unwrap(),
            written
        );
        assert_eq!(
            StateFile::new(path.clone()).load(1 << 20).unwrap(),
            Some(voted.clone())
        );
        // A new proposal replaces it; none (a new epoch) removes it.
        let next = PersistedState {
            proposal: Some(Proposal {
                round: 11,
                ..proposal.clone()
            }),
            ..voted.clone()
        };
        file.save(&next).unwrap();
        assert_eq!(
            StateFile::new(path.clone()).load(1 << 20).unwrap(),
            Some(next.clone())
        );
        let cleared = PersistedState {
            proposal: None,
            ..next
        };
        file.save(&cleared).unwrap();
        assert!(!proposal_path.exists());
        assert_eq!(StateFile::new(path.clone()).load(1 << 20).unwrap(), Some(cleared));
        // A version 1 state file on disk: its proposal survives the first save in version 2.
        std::fs::write(&path, &v1).unwrap();
        std::fs::remove_file(&proposal_path).ok();
        let mut upgraded = StateFile::new(path.clone());
        let loaded = upgraded.load(1 << 20).unwrap().unwrap();
        assert_eq!(loaded, state);
        upgraded.save(&loaded).unwrap();
        assert_eq!(
            StateFile::new(path.clone()).load(1 << 20).unwrap(),
            Some(state.clone())
        );
        // A proposal file newer than the state (a crash between the two writes) is loaded.
        std::fs::write(&proposal_path, &proposal_bytes).unwrap();
        assert_eq!(
            StateFile::new(path.clone())
                .load(1 << 20)
                .unwrap()
                .unwrap()
                .proposal,
            Some(proposal)
        );

        // Kept blocks read back by height; a file whose id does not match its content is skipped.
        let blocks = BlockDir::open(dir.join("blocks")).unwrap();
        let a = BlockId::compute(5, &BlockId([1; 32]), b"five");
        let b = BlockId::compute(6, &a, b"six");
        blocks.keep(&b, 6, &a, b"six").unwrap();
        blocks.keep(&a, 5, &BlockId([1; 32]), b"five").unwrap();
        let forged = BlockId([7; 32]);
        blocks.keep(&forged, 7, &b, b"seven").unwrap();
        let kept = blocks.load().unwrap();
        assert_eq!(kept.iter().map(|k| k.id).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(kept[1].payload, b"six");
        blocks.forget(&a);
        assert_eq!(blocks.load().unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
