//! Bitmap IP/MAC allocator with Kube-OVN semantics. Pure Rust: no Node, no I/O.
