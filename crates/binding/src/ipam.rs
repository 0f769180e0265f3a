//! IPAM exports (owned by the IPAM work).
