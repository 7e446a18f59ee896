//! Named scenarios, each a function of a seed, and seed sweeps over them.

use std::sync::Arc;

use consensus::bbft::Crypto;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::runner::{
    Behaviour, CrashPoint, DropRule, Fault, Network, Reconfig, Sim, SimConfig, SimReport, TopologyChoice,
    Trigger, Triggered, Violation,
};

/// The scenarios every sweep covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Every validator honest, with jitter and a little loss.
    AllHonest,
    /// f validators silent.
    FSilent,
    /// f validators sign two votes per round.
    FEquivocating,
    /// The first leader equivocates (two signed proposals per round).
    ByzantineLeader,
    /// One silent super node and one lying super node (invalid aggregates or forged bitmaps).
    FaultySuperNodes,
    /// A partition (with or without a quorum side) that heals.
    PartitionHeals,
    /// The validator set changes at a round boundary.
    ValidatorSetChange,
    /// Up to f validators crash and restart from their persisted state.
    CrashRestart,
    /// A validator delaying everything, one replaying everything, and network replays.
    DelayReplay,
    /// f colluding validators: twin proposals to the two honest halves, double votes.
    Coalition,
    /// Up to f validators crash inside a step (after persist, mid-send, after commit) and
    /// restart from their persisted state.
    CrashInStep,
    /// Reconfiguration with the proposal at epoch 0's last height lost (and, by seed, the
    /// next one too: the first suffix block or the new epoch's first block).
    EpochDropProposal,
    /// Reconfiguration with the leader crashing while sending the proposal at the boundary.
    EpochCrashLeader,
    /// Reconfiguration with a partition from the boundary proposal until after it.
    EpochPartition,
    /// M = 1 (FBFT) with the single aggregator silent: members fall back.
    FbftSilentAggregator,
    /// M = 1 (FBFT) with the single aggregator sending invalid certificates or forged bitmaps.
    FbftLyingAggregator,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 16] = [
        Scenario::AllHonest,
        Scenario::FSilent,
        Scenario::FEquivocating,
        Scenario::ByzantineLeader,
        Scenario::FaultySuperNodes,
        Scenario::PartitionHeals,
        Scenario::ValidatorSetChange,
        Scenario::CrashRestart,
        Scenario::DelayReplay,
        Scenario::Coalition,
        Scenario::CrashInStep,
        Scenario::EpochDropProposal,
        Scenario::EpochCrashLeader,
        Scenario::EpochPartition,
        Scenario::FbftSilentAggregator,
        Scenario::FbftLyingAggregator,
    ];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::AllHonest => "all_honest",
            Scenario::FSilent => "f_silent",
            Scenario::FEquivocating => "f_equivocating",
            Scenario::ByzantineLeader => "byzantine_leader",
            Scenario::FaultySuperNodes => "faulty_super_nodes",
            Scenario::PartitionHeals => "partition_heals",
            Scenario::ValidatorSetChange => "validator_set_change",
            Scenario::CrashRestart => "crash_restart",
            Scenario::DelayReplay => "delay_replay",
            Scenario::Coalition => "coalition",
            Scenario::CrashInStep => "crash_in_step",
            Scenario::EpochDropProposal => "epoch_drop_proposal",
            Scenario::EpochCrashLeader => "epoch_crash_leader",
            Scenario::EpochPartition => "epoch_partition",
            Scenario::FbftSilentAggregator => "fbft_silent_aggregator",
            Scenario::FbftLyingAggregator => "fbft_lying_aggregator",
        }
    }

    /// The run for `seed`: N between 4 and 10 and the faults drawn from the seed.
    pub fn config(self, seed: u64) -> SimConfig {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6262_6674);
        let n = 4 + usize::try_from(seed % 4).unwrap_or(0);
        let mut c = SimConfig::new(seed, n);
        let f = (n - 1) / 3;
        let pick = |rng: &mut ChaCha8Rng, k: usize, n: usize| -> Vec<usize> {
            let mut all: Vec<usize> = (0..n).collect();
            for i in 0..k.min(n) {
                let j = rng.gen_range(i..n);
                all.swap(i, j);
            }
            all.truncate(k);
            all
        };
        match self {
            Scenario::AllHonest => c.network.loss = 0.01,
            Scenario::FSilent => {
                c.byzantine = pick(&mut rng, f, n)
                    .into_iter()
                    .map(|i| (i, Behaviour::Silent))
                    .collect();
            }
            Scenario::FEquivocating => {
                c.byzantine = pick(&mut rng, f, n)
                    .into_iter()
                    .map(|i| (i, Behaviour::EquivocatingVoter))
                    .collect();
            }
            Scenario::ByzantineLeader => {
                // Node 0 is the first super node, so it leads the first term.
                c.byzantine = vec![(0, Behaviour::EquivocatingLeader)];
            }
            Scenario::FaultySuperNodes => {
                // Seven to ten validators, f = 2 or 3, three super nodes: 0 silent, 1 lying.
                c = SimConfig::new(seed, 7 + usize::try_from(seed % 4).unwrap_or(0));
                c.topology = TopologyChoice::Supers(3);
                let lie = if seed.is_multiple_of(2) {
                    Behaviour::InvalidAggregate
                } else {
                    Behaviour::ForgedBitmap
                };
                c.byzantine = vec![(0, Behaviour::Silent), (1, lie)];
            }
            Scenario::PartitionHeals => {
                let start = rng.gen_range(20..150);
                let len = rng.gen_range(100..800);
                let cut = rng.gen_range(1..n);
                let order = pick(&mut rng, n, n);
                c.faults = vec![
                    (
                        start,
                        Fault::Partition(vec![order[..cut].to_vec(), order[cut..].to_vec()]),
                    ),
                    (start + len, Fault::Heal),
                ];
            }
            Scenario::ValidatorSetChange => {
                // Heights 1..=3 by nodes 0..n; then one validator leaves and one joins.
                c.reconfig = Some(Reconfig {
                    last_height: 3,
                    next: (1..=n).collect(),
                });
                c.heights = 7;
            }
            Scenario::CrashRestart => {
                let k = rng.gen_range(1..=f.max(1));
                for i in pick(&mut rng, k, n) {
                    let at = rng.gen_range(20..200);
                    let down = rng.gen_range(50..400);
                    c.faults.push((at, Fault::Crash(i)));
                    c.faults.push((at + down, Fault::Restart(i)));
                }
            }
            Scenario::DelayReplay => {
                c = SimConfig::new(seed, 7);
                c.network.replay = 0.05;
                let who = pick(&mut rng, 2, 7);
                c.byzantine = vec![
                    (who[0], Behaviour::Delay(rng.gen_range(10..150))),
                    (who[1], Behaviour::Replay),
                ];
            }
            Scenario::Coalition => {
                // N from 4 to 8 so that f reaches 2; the first or second leader is in the
                // coalition so that it leads within the run.
                let n = 4 + usize::try_from(seed % 5).unwrap_or(0);
                c = SimConfig::new(seed, n);
                let f = (n - 1) / 3;
                let mut members = vec![usize::try_from(seed / 5 % 2).unwrap_or(0)];
                for i in pick(&mut rng, n, n) {
                    if members.len() < f && !members.contains(&i) {
                        members.push(i);
                    }
                }
                c.byzantine = members.into_iter().map(|i| (i, Behaviour::Coalition)).collect();
            }
            Scenario::CrashInStep => {
                let k = rng.gen_range(1..=f.max(1));
                for i in pick(&mut rng, k, n) {
                    for _ in 0..rng.gen_range(1..=2) {
                        let point = match rng.gen_range(0..3) {
                            0 => CrashPoint::AfterPersist,
                            1 => CrashPoint::MidSend(rng.gen_range(0..3)),
                            _ => CrashPoint::AfterCommit,
                        };
                        c.faults.push((
                            rng.gen_range(5..200),
                            Fault::CrashInStep {
                                node: i,
                                point,
                                down_ms: rng.gen_range(20..200),
                            },
                        ));
                    }
                }
            }
            Scenario::EpochDropProposal | Scenario::EpochCrashLeader | Scenario::EpochPartition => {
                let last = rng.gen_range(2..=3);
                c.reconfig = Some(Reconfig {
                    last_height: last,
                    next: (1..=n).collect(),
                });
                c.heights = last + 3;
                // The boundary proposal always; by seed also the one after it, either the first
                // suffix block of epoch 0 or the first block of epoch 1.
                let mut at = vec![(0, last)];
                match rng.gen_range(0..3) {
                    0 => at.push((0, last + 1)),
                    1 => at.push((1, last + 1)),
                    _ => {}
                }
                for (epoch, height) in at {
                    let when = Trigger::Proposal { epoch, height };
                    match self {
                        Scenario::EpochDropProposal => {
                            c.drops.push(DropRule::FirstProposal { epoch, height })
                        }
                        Scenario::EpochCrashLeader => c.triggered.push(Triggered {
                            when,
                            after_ms: 0,
                            fault: Fault::CrashProposer {
                                sent: rng.gen_range(0..=2),
                                down_ms: rng.gen_range(50..250),
                            },
                        }),
                        _ => {
                            let cut = rng.gen_range(1..n);
                            let order = pick(&mut rng, n + 1, n + 1);
                            let start = rng.gen_range(0..30);
                            c.triggered.push(Triggered {
                                when,
                                after_ms: start,
                                fault: Fault::Partition(vec![order[..cut].to_vec(), order[cut..].to_vec()]),
                            });
                            c.triggered.push(Triggered {
                                when,
                                after_ms: start + rng.gen_range(100..300),
                                fault: Fault::Heal,
                            });
                        }
                    }
                }
            }
            Scenario::FbftSilentAggregator | Scenario::FbftLyingAggregator => {
                c.topology = TopologyChoice::Supers(1);
                let b = match self {
                    Scenario::FbftSilentAggregator => Behaviour::Silent,
                    _ if seed.is_multiple_of(2) => Behaviour::InvalidAggregate,
                    _ => Behaviour::ForgedBitmap,
                };
                c.byzantine = vec![(0, b)];
            }
        }
        c
    }
}

/// A failing seed with what went wrong.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Scenario.
    pub scenario: Scenario,
    /// Seed (rerun with `Scenario::config(seed)`).
    pub seed: u64,
    /// What was violated (empty if the run could not be set up).
    pub violations: Vec<Violation>,
}

/// Totals of a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepSummary {
    /// Runs done.
    pub runs: u64,
    /// Failing runs.
    pub failures: Vec<Failure>,
    /// Heights finalized by every required node, summed over runs.
    pub heights: u64,
    /// Evidence reports, summed.
    pub evidence: u64,
    /// Rejected messages, summed.
    pub rejected: u64,
    /// Crashes inside a step by point (after persist, mid-send, after commit), summed.
    pub crashes_in_step: [u64; 3],
    /// Coalition twin rounds and, of those, rounds where honest votes went to both twins.
    pub twin_rounds: u64,
    /// See `twin_rounds`.
    pub split_rounds: u64,
    /// Faults fired by triggers, summed.
    pub triggered: u64,
    /// Messages dropped by drop rules, summed.
    pub dropped: u64,
}

/// Runs `scenario` for each seed in `seeds`.
pub fn sweep(scenario: Scenario, seeds: std::ops::Range<u64>, crypto: &Arc<dyn Crypto>) -> SweepSummary {
    let mut s = SweepSummary::default();
    for seed in seeds {
        s.runs += 1;
        match run_one(scenario, seed, crypto) {
            Ok(r) => {
                s.heights += r.min_committed;
                s.evidence += u64::try_from(r.evidence).unwrap_or(0);
                s.rejected += r.rejected;
                for (a, b) in s.crashes_in_step.iter_mut().zip(r.crashes_in_step) {
                    *a += b;
                }
                s.twin_rounds += r.twin_rounds;
                s.split_rounds += r.split_rounds;
                s.triggered += r.triggered;
                s.dropped += r.dropped;
                if !r.ok() {
                    s.failures.push(Failure {
                        scenario,
                        seed,
                        violations: r.violations,
                    });
                }
            }
            Err(_) => s.failures.push(Failure {
                scenario,
                seed,
                violations: Vec::new(),
            }),
        }
    }
    s
}

/// One run of `scenario` with `seed`.
pub fn run_one(
    scenario: Scenario,
    seed: u64,
    crypto: &Arc<dyn Crypto>,
) -> Result<SimReport, crate::runner::SimError> {
    Ok(Sim::new(scenario.config(seed), Arc::clone(crypto))?.run())
}

/// The default network of the scenarios (exposed for custom runs).
pub fn default_network() -> Network {
    SimConfig::new(0, 4).network
}
