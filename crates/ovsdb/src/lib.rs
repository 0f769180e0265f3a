//! RFC 7047 values and JSON-RPC encoding into bytes. Pure Rust: no sockets, no Node.
