//! JSON-RPC requests (RFC 7047 §4) written into a byte buffer, keys in canonical order:
//! `{"method":…,"params":[…],"id":…}`, replies `{"id":…,"result":…,"error":null}`.
//! On error nothing is left in `out` from the failed call.
use crate::error::EncodeError;
use crate::number::write_number;
use crate::text::{Text, is_id, is_uuid, write_ovsdb_string, write_plain_ascii};
use crate::value::{
    Atom, Condition, Json, MonitorRequest, MonitorWhere, Mutation, Operation, Row, RpcId,
    TableMonitor, Until, Value, WhereClause,
};

type Result<T = ()> = std::result::Result<T, EncodeError>;

/// Runs `body` and drops whatever it wrote if it fails.
fn atomically(
    out: &mut Vec<u8>,
    method: &'static str,
    body: impl FnOnce(&mut Vec<u8>) -> Result,
) -> Result {
    let start = out.len();
    body(out).map_err(|e| {
        out.truncate(start);
        e.in_method(method)
    })
}

fn id_name(out: &mut Vec<u8>, t: Text<'_>, what: &str) -> Result {
    if !is_id(t) {
        return Err(EncodeError::new(format!(
            "{what} must match [_a-zA-Z][_a-zA-Z0-9]*, got {t:?}"
        )));
    }
    write_plain_ascii(out, t);
    Ok(())
}

fn write_id(out: &mut Vec<u8>, id: RpcId<'_>) -> Result {
    match id {
        RpcId::Null => out.extend_from_slice(b"null"),
        RpcId::Number(n) => {
            write_number(out, n).map_err(|e| EncodeError::new(format!("id: {}", e.reason)))?
        }
        RpcId::String(s) => write_ovsdb_string(out, s)?,
    }
    Ok(())
}

fn request_head(out: &mut Vec<u8>, method: &str) {
    out.extend_from_slice(b"{\"method\":\"");
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b"\",\"params\":[");
}

fn request_tail(out: &mut Vec<u8>, id: RpcId<'_>) -> Result {
    out.extend_from_slice(b"],\"id\":");
    write_id(out, id)?;
    out.push(b'}');
    Ok(())
}

pub fn write_atom(out: &mut Vec<u8>, atom: &Atom<'_>) -> Result {
    match *atom {
        Atom::Number(n) => write_number(out, n)?,
        Atom::Boolean(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Atom::String(s) => write_ovsdb_string(out, s)?,
        Atom::Uuid(u) => {
            if !is_uuid(u) {
                return Err(EncodeError::new(format!("bad uuid {u:?}")));
            }
            out.extend_from_slice(b"[\"uuid\",");
            write_plain_ascii(out, u);
            out.push(b']');
        }
        Atom::NamedUuid(n) => {
            if !is_id(n) {
                return Err(EncodeError::new(format!(
                    "named-uuid must match [_a-zA-Z][_a-zA-Z0-9]*, got {n:?}"
                )));
            }
            out.extend_from_slice(b"[\"named-uuid\",");
            write_plain_ascii(out, n);
            out.push(b']');
        }
    }
    Ok(())
}

pub fn write_value(out: &mut Vec<u8>, value: &Value<'_>) -> Result {
    match value {
        Value::Atom(a) => write_atom(out, a),
        Value::Set(atoms) => {
            out.extend_from_slice(b"[\"set\",[");
            for (i, a) in atoms.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_atom(out, a)?;
            }
            out.extend_from_slice(b"]]");
            Ok(())
        }
        Value::Map(pairs) => {
            out.extend_from_slice(b"[\"map\",[");
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                write_atom(out, k)?;
                out.push(b',');
                write_atom(out, v)?;
                out.push(b']');
            }
            out.extend_from_slice(b"]]");
            Ok(())
        }
    }
}

fn write_row(out: &mut Vec<u8>, row: &Row<'_>) -> Result {
    out.push(b'{');
    for (i, (column, value)) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        id_name(out, *column, "column name")?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_condition(out: &mut Vec<u8>, c: &Condition<'_>) -> Result {
    out.push(b'[');
    id_name(out, c.column, "column name")?;
    out.extend_from_slice(b",\"");
    out.extend_from_slice(c.function.as_str().as_bytes());
    out.extend_from_slice(b"\",");
    write_value(out, &c.value)?;
    out.push(b']');
    Ok(())
}

fn write_conditions(out: &mut Vec<u8>, conditions: &[Condition<'_>]) -> Result {
    out.push(b'[');
    for (i, c) in conditions.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_condition(out, c)?;
    }
    out.push(b']');
    Ok(())
}

fn write_mutations(out: &mut Vec<u8>, mutations: &[Mutation<'_>]) -> Result {
    out.push(b'[');
    for (i, m) in mutations.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        id_name(out, m.column, "column name")?;
        out.extend_from_slice(b",\"");
        out.extend_from_slice(m.mutator.as_str().as_bytes());
        out.extend_from_slice(b"\",");
        write_value(out, &m.value)?;
        out.push(b']');
    }
    out.push(b']');
    Ok(())
}

fn write_columns(out: &mut Vec<u8>, columns: &[Text<'_>]) -> Result {
    out.push(b'[');
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        id_name(out, *c, "column name")?;
    }
    out.push(b']');
    Ok(())
}

fn op_head(out: &mut Vec<u8>, op: &str, table: Text<'_>) -> Result {
    out.extend_from_slice(b"{\"op\":\"");
    out.extend_from_slice(op.as_bytes());
    out.extend_from_slice(b"\",\"table\":");
    id_name(out, table, "table")
}

/// One operation object (RFC 7047 §5.2) with keys in canonical order.
pub fn write_operation(out: &mut Vec<u8>, op: &Operation<'_>) -> Result {
    match op {
        Operation::Insert {
            table,
            uuid_name,
            row,
        } => {
            op_head(out, "insert", *table)?;
            if let Some(name) = uuid_name {
                if !is_id(*name) {
                    return Err(EncodeError::new(format!(
                        "uuid-name must match [_a-zA-Z][_a-zA-Z0-9]*, got {name:?}"
                    )));
                }
                out.extend_from_slice(b",\"uuid-name\":");
                write_plain_ascii(out, *name);
            }
            out.extend_from_slice(b",\"row\":");
            write_row(out, row)?;
        }
        Operation::Select {
            table,
            conditions,
            columns,
        } => {
            op_head(out, "select", *table)?;
            out.extend_from_slice(b",\"where\":");
            write_conditions(out, conditions)?;
            if let Some(columns) = columns {
                out.extend_from_slice(b",\"columns\":");
                write_columns(out, columns)?;
            }
        }
        Operation::Update {
            table,
            conditions,
            row,
        } => {
            op_head(out, "update", *table)?;
            out.extend_from_slice(b",\"where\":");
            write_conditions(out, conditions)?;
            out.extend_from_slice(b",\"row\":");
            write_row(out, row)?;
        }
        Operation::Mutate {
            table,
            conditions,
            mutations,
        } => {
            op_head(out, "mutate", *table)?;
            out.extend_from_slice(b",\"where\":");
            write_conditions(out, conditions)?;
            out.extend_from_slice(b",\"mutations\":");
            write_mutations(out, mutations)?;
        }
        Operation::Delete { table, conditions } => {
            op_head(out, "delete", *table)?;
            out.extend_from_slice(b",\"where\":");
            write_conditions(out, conditions)?;
        }
        Operation::Wait {
            table,
            timeout,
            conditions,
            columns,
            until,
            rows,
        } => {
            op_head(out, "wait", *table)?;
            if let Some(t) = timeout {
                out.extend_from_slice(b",\"timeout\":");
                write_number(out, *t)
                    .map_err(|e| EncodeError::new(format!("timeout: {}", e.reason)))?;
            }
            out.extend_from_slice(b",\"where\":");
            write_conditions(out, conditions)?;
            out.extend_from_slice(b",\"columns\":");
            write_columns(out, columns)?;
            out.extend_from_slice(match until {
                Until::Eq => b",\"until\":\"==\",\"rows\":[",
                Until::Ne => b",\"until\":\"!=\",\"rows\":[",
            });
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_row(out, row)?;
            }
            out.push(b']');
        }
        Operation::Commit { durable } => {
            out.extend_from_slice(if *durable {
                b"{\"op\":\"commit\",\"durable\":true"
            } else {
                b"{\"op\":\"commit\",\"durable\":false"
            });
        }
        Operation::Abort => out.extend_from_slice(b"{\"op\":\"abort\""),
        Operation::Comment { comment } => {
            out.extend_from_slice(b"{\"op\":\"comment\",\"comment\":");
            write_ovsdb_string(out, *comment)?;
        }
        Operation::Assert { lock } => {
            out.extend_from_slice(b"{\"op\":\"assert\",\"lock\":");
            write_ovsdb_string(out, *lock)?;
        }
    }
    out.push(b'}');
    Ok(())
}

/// `transact` (RFC 7047 §4.1.3): `{"method":"transact","params":[db, op…],"id":…}`.
pub fn encode_transact(
    out: &mut Vec<u8>,
    id: RpcId<'_>,
    database: Text<'_>,
    ops: &[Operation<'_>],
) -> Result {
    atomically(out, "transact", |out| {
        request_head(out, "transact");
        write_ovsdb_string(out, database)?;
        for (i, op) in ops.iter().enumerate() {
            out.push(b',');
            write_operation(out, op).map_err(|e| e.at_op(i, op.table().map(|t| t.lossy())))?;
        }
        request_tail(out, id)
    })
}

pub fn write_json(out: &mut Vec<u8>, value: &Json<'_>) -> Result {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => write_number(out, *n)?,
        Json::String(s) => write_ovsdb_string(out, *s)?,
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item)?;
            }
            out.push(b']');
        }
        Json::Object(members) => {
            out.push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_ovsdb_string(out, *k)?;
                out.push(b':');
                write_json(out, v)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_json_list(out: &mut Vec<u8>, items: &[Json<'_>]) -> Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(out, item)?;
    }
    Ok(())
}

/// Any method with arbitrary params (the builders below cover the OVSDB ones).
pub fn encode_request(
    out: &mut Vec<u8>,
    method: Text<'_>,
    params: &[Json<'_>],
    id: RpcId<'_>,
) -> Result {
    atomically(out, "request", |out| {
        out.extend_from_slice(b"{\"method\":");
        write_ovsdb_string(out, method)?;
        out.extend_from_slice(b",\"params\":[");
        write_json_list(out, params)?;
        request_tail(out, id)
    })
}

/// A reply to a server request, e.g. the inactivity-probe echo.
pub fn encode_reply(out: &mut Vec<u8>, id: RpcId<'_>, result: &Json<'_>) -> Result {
    atomically(out, "reply", |out| {
        out.extend_from_slice(b"{\"id\":");
        write_id(out, id)?;
        out.extend_from_slice(b",\"result\":");
        write_json(out, result)?;
        out.extend_from_slice(b",\"error\":null}");
        Ok(())
    })
}

fn write_monitor_request(out: &mut Vec<u8>, req: &MonitorRequest<'_>) -> Result {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, k: &[u8]| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(k);
    };
    if let Some(columns) = &req.columns {
        key(out, b"\"columns\":");
        write_columns(out, columns)?;
    }
    if let Some(w) = &req.conditions {
        key(out, b"\"where\":");
        match w {
            MonitorWhere::Literal(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            MonitorWhere::Clauses(clauses) => {
                out.push(b'[');
                for (i, c) in clauses.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    match c {
                        WhereClause::Literal(b) => {
                            out.extend_from_slice(if *b { b"true" } else { b"false" })
                        }
                        WhereClause::Condition(c) => write_condition(out, c)?,
                    }
                }
                out.push(b']');
            }
        }
    }
    if let Some(sel) = &req.select {
        key(out, b"\"select\":{");
        let mut first_flag = true;
        for (name, flag) in [
            ("initial", sel.initial),
            ("insert", sel.insert),
            ("delete", sel.delete),
            ("modify", sel.modify),
        ] {
            if let Some(flag) = flag {
                if !first_flag {
                    out.push(b',');
                }
                first_flag = false;
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(if flag { b"\":true" } else { b"\":false" });
            }
        }
        out.push(b'}');
    }
    out.push(b'}');
    Ok(())
}

fn write_monitor_requests(out: &mut Vec<u8>, tables: &[TableMonitor<'_>]) -> Result {
    out.push(b'{');
    for (i, (table, requests)) in tables.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        id_name(out, *table, "table")?;
        out.extend_from_slice(b":[");
        for (j, req) in requests.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write_monitor_request(out, req)?;
        }
        out.push(b']');
    }
    out.push(b'}');
    Ok(())
}

/// `monitor_cond` (ovsdb-server extension of RFC 7047 §4.1.5): `[db, monitor-id, requests]`.
pub fn encode_monitor_cond(
    out: &mut Vec<u8>,
    id: RpcId<'_>,
    database: Text<'_>,
    monitor_id: &Json<'_>,
    tables: &[TableMonitor<'_>],
) -> Result {
    atomically(out, "monitor_cond", |out| {
        request_head(out, "monitor_cond");
        write_ovsdb_string(out, database)?;
        out.push(b',');
        write_json(out, monitor_id)?;
        out.push(b',');
        write_monitor_requests(out, tables)?;
        request_tail(out, id)
    })
}

/// `monitor_cond_since`: `[db, monitor-id, requests, last-txn-id]`.
pub fn encode_monitor_cond_since(
    out: &mut Vec<u8>,
    id: RpcId<'_>,
    database: Text<'_>,
    monitor_id: &Json<'_>,
    tables: &[TableMonitor<'_>],
    last_txn_id: Text<'_>,
) -> Result {
    atomically(out, "monitor_cond_since", |out| {
        if !is_uuid(last_txn_id) {
            return Err(EncodeError::new(format!(
                "last-txn-id must be a uuid, got {last_txn_id:?}"
            )));
        }
        request_head(out, "monitor_cond_since");
        write_ovsdb_string(out, database)?;
        out.push(b',');
        write_json(out, monitor_id)?;
        out.push(b',');
        write_monitor_requests(out, tables)?;
        out.push(b',');
        write_plain_ascii(out, last_txn_id);
        request_tail(out, id)
    })
}

pub fn encode_monitor_cancel(out: &mut Vec<u8>, id: RpcId<'_>, monitor_id: &Json<'_>) -> Result {
    atomically(out, "monitor_cancel", |out| {
        request_head(out, "monitor_cancel");
        write_json(out, monitor_id)?;
        request_tail(out, id)
    })
}

fn one_string_request(
    out: &mut Vec<u8>,
    method: &'static str,
    id: RpcId<'_>,
    arg: Text<'_>,
) -> Result {
    atomically(out, method, |out| {
        request_head(out, method);
        write_ovsdb_string(out, arg)?;
        request_tail(out, id)
    })
}

pub fn encode_get_schema(out: &mut Vec<u8>, id: RpcId<'_>, database: Text<'_>) -> Result {
    one_string_request(out, "get_schema", id, database)
}

pub fn encode_list_dbs(out: &mut Vec<u8>, id: RpcId<'_>) -> Result {
    atomically(out, "list_dbs", |out| {
        request_head(out, "list_dbs");
        request_tail(out, id)
    })
}

pub fn encode_echo(out: &mut Vec<u8>, id: RpcId<'_>, params: &[Json<'_>]) -> Result {
    atomically(out, "echo", |out| {
        request_head(out, "echo");
        write_json_list(out, params)?;
        request_tail(out, id)
    })
}

pub fn encode_set_db_change_aware(out: &mut Vec<u8>, id: RpcId<'_>, aware: bool) -> Result {
    atomically(out, "set_db_change_aware", |out| {
        request_head(out, "set_db_change_aware");
        out.extend_from_slice(if aware { b"true" } else { b"false" });
        request_tail(out, id)
    })
}

pub fn encode_lock(out: &mut Vec<u8>, id: RpcId<'_>, lock: Text<'_>) -> Result {
    one_string_request(out, "lock", id, lock)
}

pub fn encode_steal(out: &mut Vec<u8>, id: RpcId<'_>, lock: Text<'_>) -> Result {
    one_string_request(out, "steal", id, lock)
}

pub fn encode_unlock(out: &mut Vec<u8>, id: RpcId<'_>, lock: Text<'_>) -> Result {
    one_string_request(out, "unlock", id, lock)
}
