//! RFC 7047 §5.1 values and §5.2 operations, borrowing their strings from the caller.
use crate::number::Number;
use crate::text::Text;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Atom<'a> {
    Number(Number),
    Boolean(bool),
    String(Text<'a>),
    /// `["uuid", "<8-4-4-4-12 hex>"]`
    Uuid(Text<'a>),
    /// `["named-uuid", "<id>"]`, naming a row inserted earlier in the same transaction.
    NamedUuid(Text<'a>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Atom(Atom<'a>),
    /// `["set", [...]]`
    Set(Vec<Atom<'a>>),
    /// `["map", [[k, v], ...]]`
    Map(Vec<(Atom<'a>, Atom<'a>)>),
}

impl<'a> From<Atom<'a>> for Value<'a> {
    fn from(a: Atom<'a>) -> Self {
        Value::Atom(a)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Atom(Atom::String(Text::Utf8(s)))
    }
}

/// Columns in the order they are written.
pub type Row<'a> = Vec<(Text<'a>, Value<'a>)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
    Includes,
    Excludes,
}

impl Function {
    pub const ALL: [Function; 8] = [
        Function::Lt,
        Function::Le,
        Function::Eq,
        Function::Ne,
        Function::Ge,
        Function::Gt,
        Function::Includes,
        Function::Excludes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Function::Lt => "<",
            Function::Le => "<=",
            Function::Eq => "==",
            Function::Ne => "!=",
            Function::Ge => ">=",
            Function::Gt => ">",
            Function::Includes => "includes",
            Function::Excludes => "excludes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutator {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Insert,
    Delete,
}

impl Mutator {
    pub const ALL: [Mutator; 7] = [
        Mutator::Add,
        Mutator::Sub,
        Mutator::Mul,
        Mutator::Div,
        Mutator::Mod,
        Mutator::Insert,
        Mutator::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mutator::Add => "+=",
            Mutator::Sub => "-=",
            Mutator::Mul => "*=",
            Mutator::Div => "/=",
            Mutator::Mod => "%=",
            Mutator::Insert => "insert",
            Mutator::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition<'a> {
    pub column: Text<'a>,
    pub function: Function,
    pub value: Value<'a>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mutation<'a> {
    pub column: Text<'a>,
    pub mutator: Mutator,
    pub value: Value<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Eq,
    Ne,
}

/// One transact operation. Keys are written in the order of the fields below.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation<'a> {
    Insert {
        table: Text<'a>,
        uuid_name: Option<Text<'a>>,
        row: Row<'a>,
    },
    Select {
        table: Text<'a>,
        conditions: Vec<Condition<'a>>,
        columns: Option<Vec<Text<'a>>>,
    },
    Update {
        table: Text<'a>,
        conditions: Vec<Condition<'a>>,
        row: Row<'a>,
    },
    Mutate {
        table: Text<'a>,
        conditions: Vec<Condition<'a>>,
        mutations: Vec<Mutation<'a>>,
    },
    Delete {
        table: Text<'a>,
        conditions: Vec<Condition<'a>>,
    },
    Wait {
        table: Text<'a>,
        timeout: Option<Number>,
        conditions: Vec<Condition<'a>>,
        columns: Vec<Text<'a>>,
        until: Until,
        rows: Vec<Row<'a>>,
    },
    Commit {
        durable: bool,
    },
    Abort,
    Comment {
        comment: Text<'a>,
    },
    Assert {
        lock: Text<'a>,
    },
}

impl<'a> Operation<'a> {
    pub fn table(&self) -> Option<Text<'a>> {
        match self {
            Operation::Insert { table, .. }
            | Operation::Select { table, .. }
            | Operation::Update { table, .. }
            | Operation::Mutate { table, .. }
            | Operation::Delete { table, .. }
            | Operation::Wait { table, .. } => Some(*table),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RpcId<'a> {
    Null,
    Number(Number),
    String(Text<'a>),
}

/// Arbitrary JSON for params and results that have no OVSDB structure (echo, monitor ids).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Text<'a>),
    Array(Vec<Json<'a>>),
    /// Members in the order written.
    Object(Vec<(Text<'a>, Json<'a>)>),
}

/// One element of a monitor_cond `where`: a condition or a literal true/false.
#[derive(Debug, Clone, PartialEq)]
pub enum WhereClause<'a> {
    Condition(Condition<'a>),
    Literal(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MonitorWhere<'a> {
    Clauses(Vec<WhereClause<'a>>),
    Literal(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonitorSelect {
    pub initial: Option<bool>,
    pub insert: Option<bool>,
    pub delete: Option<bool>,
    pub modify: Option<bool>,
}

/// `<monitor-cond-request>`: keys columns, where, select in that order, each optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonitorRequest<'a> {
    pub columns: Option<Vec<Text<'a>>>,
    pub conditions: Option<MonitorWhere<'a>>,
    pub select: Option<MonitorSelect>,
}

/// The requests for one table, in the order written.
pub type TableMonitor<'a> = (Text<'a>, Vec<MonitorRequest<'a>>);
