//! Bitmap IP/MAC allocator with Kube-OVN semantics. Pure Rust: no Node, no I/O.

pub mod addr;
pub mod addrset;
pub mod bitmap;
pub mod ranges;
pub mod sparse;
pub mod error;
pub mod hash;
pub mod mac;
pub mod nic;
pub mod pool;
pub mod subnet;
pub mod ipam;
pub use ipam::*;
