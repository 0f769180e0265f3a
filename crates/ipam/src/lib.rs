//! Bitmap IP/MAC allocator with Kube-OVN semantics. Pure Rust: no Node, no I/O.
//!
//! Errors carry their message and the objects involved by value: they are the cold path, and
//! boxing them would only move the allocation, so clippy's size lint is waived.
#![allow(clippy::result_large_err)]

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
