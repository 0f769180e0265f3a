use std::fmt;

/// Input the encoder refuses to put on the wire. `op_index`/`table`/`batch_index` say where.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeError {
    pub reason: String,
    pub method: Option<&'static str>,
    pub batch_index: Option<usize>,
    pub op_index: Option<usize>,
    pub table: Option<String>,
}

impl EncodeError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            method: None,
            batch_index: None,
            op_index: None,
            table: None,
        }
    }

    pub fn in_method(mut self, method: &'static str) -> Self {
        self.method.get_or_insert(method);
        self
    }

    pub fn at_op(mut self, op_index: usize, table: Option<String>) -> Self {
        self.op_index.get_or_insert(op_index);
        if self.table.is_none() {
            self.table = table;
        }
        self
    }

    pub fn at_batch(mut self, batch_index: usize) -> Self {
        self.batch_index.get_or_insert(batch_index);
        self
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ovsdb encode: ")?;
        let mut parts = Vec::new();
        if let Some(m) = self.method {
            parts.push(format!("method {m}"));
        }
        if let Some(b) = self.batch_index {
            parts.push(format!("transaction {b}"));
        }
        if let Some(o) = self.op_index {
            parts.push(format!("op {o}"));
        }
        if let Some(t) = &self.table {
            parts.push(format!("table {t:?}"));
        }
        if !parts.is_empty() {
            write!(f, "{}: ", parts.join(", "))?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for EncodeError {}
