//! BBFT: topology-aware aggregated PBFT.
