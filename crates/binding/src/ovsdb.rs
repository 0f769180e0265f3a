//! OVSDB encoder exports (owned by the OVSDB work).
//!
//! `ovsdbEncodeTransactionsInto(tape, tapeLen, strings, out)`: one call encodes a whole batch of
//! transact requests into the caller's reusable `out` Buffer and returns the byte count; when the
//! encoding is larger than `out`, `ovsdbTakeEncoded(bigger)` copies it out. This beats returning a
//! Buffer created by N-API (`ovsdbEncodeTransactions`, kept for bench/ovsdb-encode.ts) by several
//! µs per call. Reading a JS object from Rust costs N-API calls per property (see
//! `ovsdbEncodeTransactionsSerde` below, also kept for the bench), so src/ovsdb/encoder-native.ts
//! flattens the ops into
//! - `tape`: a Float64Array of tags, counts, string lengths and numbers (only `tapeLen` used);
//! - `strings`: every string back to back, read here as UTF-16 so lone surrogates survive.
//!
//! Tape grammar (every item is one f64 word; `str` is a length in UTF-16 units, the text being
//! the next that many units of `strings`; `opt-str` is -1 for absent):
//! ```text
//! batch     = count txn*
//! txn       = id str(database) count op*
//! id        = 0 (null) | 1 number | 2 str
//! op        = 0 str(table) opt-str(uuid-name) row                      insert
//!           | 1 str(table) where (-1 | count str*)                     select (columns optional)
//!           | 2 str(table) where row                                   update
//!           | 3 str(table) where count (str(column) mutator value)*    mutate
//!           | 4 str(table) where                                       delete
//!           | 5 str(table) (0 | 1 number) where count str* until count row*   wait
//!           | 6 durable(0|1) | 7 | 8 str(comment) | 9 str(lock)     commit, abort, comment, assert
//! where     = count (str(column) function value)*
//! row       = count (str(column) value)*
//! value     = atom | 6 count atom* (set) | 7 count (atom atom)* (map)
//! atom      = 0 str | 1 number | 2 (false) | 3 (true) | 4 str (uuid) | 5 str (named-uuid)
//! function  = index into < <= == != >= > includes excludes;  mutator = += -= *= /= %= insert delete
//! until     = 0 (==) | 1 (!=)
//! ```
//! Errors are thrown with `code: 'EncodeError'` and a JSON message `{reason, batchIndex?, opIndex?,
//! table?}` that the adapter turns into the same EncodeError the TS encoder throws.
// In the test build napi-derive registers nothing, so every export looks unused there.
#![cfg_attr(test, allow(dead_code))]

use std::cell::RefCell;

use napi::bindgen_prelude::{Buffer, BufferSlice, Float64ArraySlice, Utf16String};
use napi_derive::napi;
use ovnkit_ovsdb::{
    Atom, Condition, EncodeError, Function, Mutation, Mutator, Number, Operation, Row, RpcId, Text,
    Until, Value, encode_transact, write_json_string,
};

type Result<T> = std::result::Result<T, EncodeError>;

const ENCODE_ERROR: &str = "EncodeError";

#[napi(catch_unwind)]
pub fn ovsdb_encode_transactions(
    tape: Float64ArraySlice,
    tape_len: u32,
    strings: Utf16String,
) -> napi::Result<Buffer, String> {
    let words = tape.get(..tape_len as usize).ok_or_else(|| {
        to_napi(EncodeError::new(format!(
            "internal: tapeLen {tape_len} exceeds the tape ({} words)",
            tape.len()
        )))
    })?;
    let mut reader = TapeReader {
        words,
        pos: 0,
        strings: &strings,
        spos: 0,
    };
    let mut out = Vec::with_capacity(strings.len() + words.len() * 4 + 64);
    encode_batch(&mut reader, &mut out).map_err(to_napi)?;
    if reader.pos != words.len() || reader.spos != strings.len() {
        return Err(to_napi(EncodeError::new(
            "internal: tape has trailing words or strings",
        )));
    }
    Ok(out.into())
}

thread_local! {
    /// Reused output buffer; also holds an encoding too large for the caller's buffer until
    /// `ovsdbTakeEncoded` copies it out.
    static ENCODED: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(64 * 1024));
}

/// Encodes the tape straight into `out` (the caller's reusable buffer). Returns the byte count;
/// when that exceeds `out.length`, nothing was written and the bytes wait for `ovsdbTakeEncoded`.
#[napi(catch_unwind)]
pub fn ovsdb_encode_transactions_into(
    tape: Float64ArraySlice,
    tape_len: u32,
    strings: Utf16String,
    mut out: BufferSlice,
) -> napi::Result<u32, String> {
    let words = tape.get(..tape_len as usize).ok_or_else(|| {
        to_napi(EncodeError::new(format!(
            "internal: tapeLen {tape_len} exceeds the tape ({} words)",
            tape.len()
        )))
    })?;
    ENCODED.with_borrow_mut(|encoded| {
        encoded.clear();
        let mut reader = TapeReader {
            words,
            pos: 0,
            strings: &strings,
            spos: 0,
        };
        encode_batch(&mut reader, encoded).map_err(to_napi)?;
        if reader.pos != words.len() || reader.spos != strings.len() {
            return Err(to_napi(EncodeError::new(
                "internal: tape has trailing words or strings",
            )));
        }
        let n = encoded.len();
        if n <= out.len() {
            out[..n].copy_from_slice(encoded);
        }
        u32::try_from(n).map_err(|_| {
            to_napi(EncodeError::new(format!(
                "encoding of {n} bytes exceeds 4 GiB"
            )))
        })
    })
}

/// Copies the encoding left by the last `ovsdbEncodeTransactionsInto` that did not fit into `out`
/// (which must be large enough); returns the byte count.
#[napi(catch_unwind)]
pub fn ovsdb_take_encoded(mut out: BufferSlice) -> napi::Result<u32, String> {
    ENCODED.with_borrow_mut(|encoded| {
        let n = encoded.len();
        let room = out.len();
        let dst = out.get_mut(..n).ok_or_else(|| {
            to_napi(EncodeError::new(format!(
                "internal: {n} encoded bytes do not fit {room}"
            )))
        })?;
        dst.copy_from_slice(encoded);
        encoded.clear();
        encoded.shrink_to(64 * 1024);
        Ok(n as u32)
    })
}

fn encode_batch(r: &mut TapeReader<'_>, out: &mut Vec<u8>) -> Result<()> {
    let count = r.count()?;
    for batch_index in 0..count {
        let at_batch = |e: EncodeError| e.at_batch(batch_index);
        let id = r.rpc_id().map_err(at_batch)?;
        let database = r.string()?;
        let n_ops = r.count()?;
        let mut ops = Vec::with_capacity(n_ops);
        for op_index in 0..n_ops {
            ops.push(
                r.operation()
                    .map_err(|e| at_batch(e.in_method("transact").at_op(op_index, None)))?,
            );
        }
        encode_transact(out, id, database, &ops).map_err(at_batch)?;
    }
    Ok(())
}

struct TapeReader<'a> {
    words: &'a [f64],
    pos: usize,
    strings: &'a [u16],
    spos: usize,
}

impl<'a> TapeReader<'a> {
    fn word(&mut self) -> Result<f64> {
        let w = *self
            .words
            .get(self.pos)
            .ok_or_else(|| EncodeError::new("internal: tape ends early"))?;
        self.pos += 1;
        Ok(w)
    }

    fn count(&mut self) -> Result<usize> {
        let w = self.word()?;
        if !(0.0..=u32::MAX as f64).contains(&w) || w.fract() != 0.0 {
            return Err(EncodeError::new(format!(
                "internal: bad count {w} at tape word {}",
                self.pos - 1
            )));
        }
        Ok(w as usize)
    }

    fn code(&mut self, max: usize, what: &str) -> Result<usize> {
        let c = self.count()?;
        if c >= max {
            return Err(EncodeError::new(format!("internal: bad {what} code {c}")));
        }
        Ok(c)
    }

    fn number(&mut self) -> Result<Number> {
        let w = self.word()?;
        if !w.is_finite() {
            return Err(EncodeError::new(format!("number must be finite, got {w}")));
        }
        Ok(Number::Real(w))
    }

    fn text(&mut self, len: usize) -> Result<Text<'a>> {
        let s = self
            .strings
            .get(self.spos..self.spos + len)
            .ok_or_else(|| EncodeError::new("internal: string pool ends early"))?;
        self.spos += len;
        Ok(Text::Utf16(s))
    }

    fn string(&mut self) -> Result<Text<'a>> {
        let len = self.count()?;
        self.text(len)
    }

    fn opt_string(&mut self) -> Result<Option<Text<'a>>> {
        let w = self.word()?;
        if w == -1.0 {
            return Ok(None);
        }
        self.pos -= 1;
        self.string().map(Some)
    }

    fn rpc_id(&mut self) -> Result<RpcId<'a>> {
        match self.code(3, "id")? {
            0 => Ok(RpcId::Null),
            1 => self
                .number()
                .map(RpcId::Number)
                .map_err(|e| EncodeError::new(format!("id: {}", e.reason))),
            _ => self.string().map(RpcId::String),
        }
    }

    fn atom(&mut self) -> Result<Atom<'a>> {
        Ok(match self.code(6, "atom")? {
            0 => Atom::String(self.string()?),
            1 => Atom::Number(self.number()?),
            2 => Atom::Boolean(false),
            3 => Atom::Boolean(true),
            4 => Atom::Uuid(self.string()?),
            _ => Atom::NamedUuid(self.string()?),
        })
    }

    fn value(&mut self) -> Result<Value<'a>> {
        let tag = self.word()?;
        if tag == 6.0 {
            let n = self.count()?;
            let mut atoms = Vec::with_capacity(n);
            for _ in 0..n {
                atoms.push(self.atom()?);
            }
            return Ok(Value::Set(atoms));
        }
        if tag == 7.0 {
            let n = self.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((self.atom()?, self.atom()?));
            }
            return Ok(Value::Map(pairs));
        }
        self.pos -= 1;
        self.atom().map(Value::Atom)
    }

    fn row(&mut self) -> Result<Row<'a>> {
        let n = self.count()?;
        let mut row = Vec::with_capacity(n);
        for _ in 0..n {
            row.push((self.string()?, self.value()?));
        }
        Ok(row)
    }

    fn conditions(&mut self) -> Result<Vec<Condition<'a>>> {
        let n = self.count()?;
        let mut conditions = Vec::with_capacity(n);
        for _ in 0..n {
            let column = self.string()?;
            let function = Function::ALL[self.code(Function::ALL.len(), "function")?];
            conditions.push(Condition {
                column,
                function,
                value: self.value()?,
            });
        }
        Ok(conditions)
    }

    fn columns(&mut self) -> Result<Vec<Text<'a>>> {
        let n = self.count()?;
        (0..n).map(|_| self.string()).collect()
    }

    fn operation(&mut self) -> Result<Operation<'a>> {
        Ok(match self.code(10, "op")? {
            0 => Operation::Insert {
                table: self.string()?,
                uuid_name: self.opt_string()?,
                row: self.row()?,
            },
            1 => {
                let table = self.string()?;
                let conditions = self.conditions()?;
                let columns = if self.word()? == -1.0 {
                    None
                } else {
                    self.pos -= 1;
                    Some(self.columns()?)
                };
                Operation::Select {
                    table,
                    conditions,
                    columns,
                }
            }
            2 => Operation::Update {
                table: self.string()?,
                conditions: self.conditions()?,
                row: self.row()?,
            },
            3 => {
                let table = self.string()?;
                let conditions = self.conditions()?;
                let n = self.count()?;
                let mut mutations = Vec::with_capacity(n);
                for _ in 0..n {
                    let column = self.string()?;
                    let mutator = Mutator::ALL[self.code(Mutator::ALL.len(), "mutator")?];
                    mutations.push(Mutation {
                        column,
                        mutator,
                        value: self.value()?,
                    });
                }
                Operation::Mutate {
                    table,
                    conditions,
                    mutations,
                }
            }
            4 => Operation::Delete {
                table: self.string()?,
                conditions: self.conditions()?,
            },
            5 => {
                let table = self.string()?;
                let timeout = if self.code(2, "timeout flag")? == 1 {
                    Some(
                        self.number()
                            .map_err(|e| EncodeError::new(format!("timeout: {}", e.reason)))?,
                    )
                } else {
                    None
                };
                let conditions = self.conditions()?;
                let columns = self.columns()?;
                let until = if self.code(2, "until")? == 0 {
                    Until::Eq
                } else {
                    Until::Ne
                };
                let n = self.count()?;
                let rows = (0..n).map(|_| self.row()).collect::<Result<Vec<_>>>()?;
                Operation::Wait {
                    table,
                    timeout,
                    conditions,
                    columns,
                    until,
                    rows,
                }
            }
            6 => Operation::Commit {
                durable: self.code(2, "durable")? == 1,
            },
            7 => Operation::Abort,
            8 => Operation::Comment {
                comment: self.string()?,
            },
            _ => Operation::Assert {
                lock: self.string()?,
            },
        })
    }
}

fn to_napi(e: EncodeError) -> napi::Error<String> {
    let mut msg = Vec::with_capacity(e.reason.len() + 64);
    msg.extend_from_slice(b"{\"reason\":");
    write_json_string(&mut msg, Text::Utf8(&e.reason));
    if let Some(b) = e.batch_index {
        msg.extend_from_slice(format!(",\"batchIndex\":{b}").as_bytes());
    }
    if let Some(o) = e.op_index {
        msg.extend_from_slice(format!(",\"opIndex\":{o}").as_bytes());
    }
    if let Some(t) = &e.table {
        msg.extend_from_slice(b",\"table\":");
        write_json_string(&mut msg, Text::Utf8(t));
    }
    msg.push(b'}');
    napi::Error::new(
        ENCODE_ERROR.to_string(),
        String::from_utf8_lossy(&msg).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Measured alternative, not used by the adapter: the same batch passed as plain JS objects and
// read through napi's serde_json conversion (one N-API call per property and element). Kept so
// bench/ovsdb-encode.ts can show why the tape exists. Strings arrive as UTF-8, so lone
// surrogates are already replaced by U+FFFD here: one more reason not to use it.

/// `items`: `[{id, database, ops}]`, ops as in src/ovsdb/protocol.ts.
#[napi(catch_unwind)]
pub fn ovsdb_encode_transactions_serde(items: serde_json::Value) -> napi::Result<Buffer, String> {
    let items = items
        .as_array()
        .ok_or_else(|| to_napi(EncodeError::new("items must be an array")))?;
    let mut out = Vec::with_capacity(items.len() * 512);
    for (batch_index, item) in items.iter().enumerate() {
        encode_serde_item(&mut out, item).map_err(|e| to_napi(e.at_batch(batch_index)))?;
    }
    Ok(out.into())
}

fn encode_serde_item(out: &mut Vec<u8>, item: &serde_json::Value) -> Result<()> {
    use serde_json::Value as J;
    let id = match item.get("id") {
        Some(J::Null) | None => RpcId::Null,
        Some(J::String(s)) => RpcId::String(Text::Utf8(s)),
        Some(J::Number(n)) => RpcId::Number(Number::Real(n.as_f64().unwrap_or(f64::NAN))),
        Some(_) => return Err(EncodeError::new("id must be a number, a string or null")),
    };
    let database = item
        .get("database")
        .and_then(J::as_str)
        .ok_or_else(|| EncodeError::new("database must be a string"))?;
    let ops_json = item
        .get("ops")
        .and_then(J::as_array)
        .ok_or_else(|| EncodeError::new("ops must be an array"))?;
    let mut ops = Vec::with_capacity(ops_json.len());
    for (i, op) in ops_json.iter().enumerate() {
        ops.push(serde_op(op).map_err(|e| e.in_method("transact").at_op(i, None))?);
    }
    encode_transact(out, id, Text::Utf8(database), &ops)
}

fn serde_str<'a>(v: Option<&'a serde_json::Value>, what: &str) -> Result<Text<'a>> {
    v.and_then(serde_json::Value::as_str)
        .map(Text::Utf8)
        .ok_or_else(|| EncodeError::new(format!("{what} must be a string")))
}

fn serde_atom(v: &serde_json::Value) -> Result<Atom<'_>> {
    use serde_json::Value as J;
    Ok(match v {
        J::String(s) => Atom::String(Text::Utf8(s)),
        J::Number(n) => Atom::Number(Number::Real(n.as_f64().unwrap_or(f64::NAN))),
        J::Bool(b) => Atom::Boolean(*b),
        J::Array(a) if a.len() == 2 => match (a[0].as_str(), a[1].as_str()) {
            (Some("uuid"), Some(u)) => Atom::Uuid(Text::Utf8(u)),
            (Some("named-uuid"), Some(u)) => Atom::NamedUuid(Text::Utf8(u)),
            _ => return Err(EncodeError::new("not an atom")),
        },
        _ => return Err(EncodeError::new("not an atom")),
    })
}

fn serde_value(v: &serde_json::Value) -> Result<Value<'_>> {
    if let Some([tag, body]) = v.as_array().map(Vec::as_slice) {
        match (tag.as_str(), body.as_array()) {
            (Some("set"), Some(atoms)) => {
                return atoms
                    .iter()
                    .map(serde_atom)
                    .collect::<Result<_>>()
                    .map(Value::Set);
            }
            (Some("map"), Some(pairs)) => {
                return pairs
                    .iter()
                    .map(|p| match p.as_array().map(Vec::as_slice) {
                        Some([k, v]) => Ok((serde_atom(k)?, serde_atom(v)?)),
                        _ => Err(EncodeError::new("map pair must be [key, value]")),
                    })
                    .collect::<Result<_>>()
                    .map(Value::Map);
            }
            _ => {}
        }
    }
    serde_atom(v).map(Value::Atom)
}

fn serde_row(v: Option<&serde_json::Value>) -> Result<Row<'_>> {
    let obj = v
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| EncodeError::new("row must be an object"))?;
    obj.iter()
        .map(|(k, v)| Ok((Text::Utf8(k), serde_value(v)?)))
        .collect()
}

fn serde_triples<'a, T: Copy>(
    v: Option<&'a serde_json::Value>,
    names: &[T],
    name_of: impl Fn(T) -> &'static str,
) -> Result<Vec<(Text<'a>, T, Value<'a>)>> {
    let list = v
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| EncodeError::new("expected an array"))?;
    list.iter()
        .map(|t| match t.as_array().map(Vec::as_slice) {
            Some([c, f, v]) => {
                let f = f.as_str().unwrap_or("");
                let code = names
                    .iter()
                    .copied()
                    .find(|n| name_of(*n) == f)
                    .ok_or_else(|| {
                        EncodeError::new(format!("unknown function or mutator {f:?}"))
                    })?;
                Ok((serde_str(Some(c), "column name")?, code, serde_value(v)?))
            }
            _ => Err(EncodeError::new("expected [column, function, value]")),
        })
        .collect()
}

fn serde_conditions(v: Option<&serde_json::Value>) -> Result<Vec<Condition<'_>>> {
    Ok(serde_triples(v, &Function::ALL, Function::as_str)?
        .into_iter()
        .map(|(column, function, value)| Condition {
            column,
            function,
            value,
        })
        .collect())
}

fn serde_columns(v: Option<&serde_json::Value>) -> Result<Vec<Text<'_>>> {
    let list = v
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| EncodeError::new("columns must be an array"))?;
    list.iter()
        .map(|c| serde_str(Some(c), "column name"))
        .collect()
}

fn serde_op(op: &serde_json::Value) -> Result<Operation<'_>> {
    let kind = op
        .get("op")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    let table = || serde_str(op.get("table"), "table");
    Ok(match kind {
        "insert" => Operation::Insert {
            table: table()?,
            uuid_name: op
                .get("uuid-name")
                .map(|n| serde_str(Some(n), "uuid-name"))
                .transpose()?,
            row: serde_row(op.get("row"))?,
        },
        "select" => Operation::Select {
            table: table()?,
            conditions: serde_conditions(op.get("where"))?,
            columns: op
                .get("columns")
                .map(|c| serde_columns(Some(c)))
                .transpose()?,
        },
        "update" => Operation::Update {
            table: table()?,
            conditions: serde_conditions(op.get("where"))?,
            row: serde_row(op.get("row"))?,
        },
        "mutate" => Operation::Mutate {
            table: table()?,
            conditions: serde_conditions(op.get("where"))?,
            mutations: serde_triples(op.get("mutations"), &Mutator::ALL, Mutator::as_str)?
                .into_iter()
                .map(|(column, mutator, value)| Mutation {
                    column,
                    mutator,
                    value,
                })
                .collect(),
        },
        "delete" => Operation::Delete {
            table: table()?,
            conditions: serde_conditions(op.get("where"))?,
        },
        "wait" => Operation::Wait {
            table: table()?,
            timeout: op
                .get("timeout")
                .and_then(serde_json::Value::as_f64)
                .map(Number::Real),
            conditions: serde_conditions(op.get("where"))?,
            columns: serde_columns(op.get("columns"))?,
            until: match op.get("until").and_then(serde_json::Value::as_str) {
                Some("==") => Until::Eq,
                Some("!=") => Until::Ne,
                _ => return Err(EncodeError::new("until must be \"==\" or \"!=\"")),
            },
            rows: op
                .get("rows")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| EncodeError::new("rows must be an array"))?
                .iter()
                .map(|r| serde_row(Some(r)))
                .collect::<Result<_>>()?,
        },
        "commit" => Operation::Commit {
            durable: op
                .get("durable")
                .and_then(serde_json::Value::as_bool)
                .ok_or_else(|| EncodeError::new("durable must be a boolean"))?,
        },
        "abort" => Operation::Abort,
        "comment" => Operation::Comment {
            comment: serde_str(op.get("comment"), "comment")?,
        },
        "assert" => Operation::Assert {
            lock: serde_str(op.get("lock"), "lock")?,
        },
        _ => return Err(EncodeError::new(format!("unknown op {kind:?}"))),
    })
}
