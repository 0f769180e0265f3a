//! RFC 7047 values and JSON-RPC encoding into bytes. Pure Rust: no sockets, no Node.
//!
//! Output is byte-identical to `JSON.stringify` of the same request built in canonical key order
//! (and to the TS twin in src/ovsdb/encoder-ts.ts): same string escaping (lone UTF-16 surrogates
//! included, see [`Text`]), same number formatting (JS `Number.prototype.toString`).

mod encode;
mod error;
mod number;
mod text;
mod value;

pub use encode::{
    encode_echo, encode_get_schema, encode_list_dbs, encode_lock, encode_monitor_cancel,
    encode_monitor_cond, encode_monitor_cond_since, encode_reply, encode_request,
    encode_set_db_change_aware, encode_steal, encode_transact, encode_unlock, write_operation,
};
pub use error::EncodeError;
pub use number::{Number, write_number};
pub use text::{Text, is_id, is_uuid, write_json_string, write_ovsdb_string};
pub use value::{
    Atom, Condition, Function, Json, MonitorRequest, MonitorSelect, MonitorWhere, Mutation,
    Mutator, Operation, Row, RpcId, TableMonitor, Until, Value, WhereClause,
};
