//! Loopback ports picked for networks the CLI lays out itself (`devnet`, `bench cluster`).

use anyhow::{Result, bail};

/// Where `devnet` and `bench cluster` pick ports: just below Linux's ephemeral range (32768 and
/// up). A port taken from that range by binding port 0 and releasing it can be taken again, before
/// the node binds it, as the local end of any outgoing connection on the machine; CI failed once
/// that way ("Address already in use"). The repository's own tests that lay out fixed ports keep
/// below this range (`tests/common::free_port_run`), so the two never probe the same ports.
pub(crate) const AUTO_PORTS: std::ops::Range<u16> = 31_000..32_768;

/// The first of `n` consecutive loopback ports in `range` that are free now.
///
/// The search starts at a run chosen by the process id, so that processes started together
/// (consecutive pids) probe disjoint runs instead of racing for the same one.
pub(crate) fn free_run(range: std::ops::Range<u16>, n: u16) -> Result<u16> {
    let len = range.end.saturating_sub(range.start);
    if n == 0 || n > len {
        bail!("cannot fit {n} consecutive ports in {range:?}");
    }
    let span = len - n + 1;
    let runs = u32::from((span / n).max(1));
    let first = u16::try_from(std::process::id() % runs * u32::from(n)).unwrap_or(0) % span;
    let all_free = |base: u16| (0..n).all(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).is_ok());
    match (0..span)
        .map(|k| range.start + (first + k) % span)
        .find(|&base| all_free(base))
    {
        Some(base) => Ok(base),
        None => bail!("found no {n} free consecutive loopback ports in {range:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_free_inside_the_range_and_skips_a_taken_port() {
        let base = free_run(AUTO_PORTS, 4).unwrap();
        assert!(AUTO_PORTS.contains(&base) && AUTO_PORTS.contains(&(base + 3)));
        // Hold the run's third port: the next search from the same start must avoid it.
        let held = std::net::TcpListener::bind(("127.0.0.1", base + 2)).unwrap();
        let again = free_run(AUTO_PORTS, 4).unwrap();
        assert!(
            !(again..again + 4).contains(&(base + 2)),
            "{again} overlaps the held {}",
            base + 2
        );
        drop(held);
    }

    #[test]
    fn impossible_runs_are_refused() {
        assert!(free_run(40_000..40_002, 3).is_err());
        assert!(free_run(40_000..40_010, 0).is_err());
    }
}
