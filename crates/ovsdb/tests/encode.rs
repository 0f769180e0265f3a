//! Expected bytes are requests the real ovsdb-server accepted (shared/reference/ovsdb-vectors),
//! and otherwise what Node's JSON.stringify prints for the same object.
use ovnkit_ovsdb::*;

const LS_UUID: &str = "2984cbff-b6fc-4d64-acb3-ca5d1b596982";
const LSP_UUID: &str = "a152f8ba-a4af-46df-bffc-5101e72cba71";

fn s(t: &str) -> Atom<'_> {
    Atom::String(Text::Utf8(t))
}

fn id(n: i64) -> RpcId<'static> {
    RpcId::Number(Number::Integer(n))
}

fn text(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap()
}

fn transact(n: i64, ops: &[Operation<'_>]) -> Result<String, EncodeError> {
    let mut out = Vec::new();
    encode_transact(&mut out, id(n), "OVN_Northbound".into(), ops)?;
    Ok(text(out))
}

fn by_uuid(u: &str) -> Vec<Condition<'_>> {
    vec![Condition {
        column: "_uuid".into(),
        function: Function::Eq,
        value: Atom::Uuid(u.into()).into(),
    }]
}

#[test]
fn insert_logical_switch_matches_vector() {
    let ops = [Operation::Insert {
        table: "Logical_Switch".into(),
        uuid_name: Some("u0000000001".into()),
        row: vec![
            ("name".into(), "ovn-default".into()),
            (
                "external_ids".into(),
                Value::Map(vec![(s("vendor"), s("kube-ovn"))]),
            ),
            (
                "other_config".into(),
                Value::Map(vec![
                    (s("subnet"), s("10.16.0.0/16")),
                    (s("exclude_ips"), s("10.16.0.1")),
                ]),
            ),
        ],
    }];
    assert_eq!(
        transact(4, &ops).unwrap(),
        r#"{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","uuid-name":"u0000000001","row":{"name":"ovn-default","external_ids":["map",[["vendor","kube-ovn"]]],"other_config":["map",[["subnet","10.16.0.0/16"],["exclude_ips","10.16.0.1"]]]}}],"id":4}"#
    );
}

#[test]
fn lsp_create_matches_vector() {
    let ops = [
        Operation::Insert {
            table: "Logical_Switch_Port".into(),
            uuid_name: Some("u0000000002".into()),
            row: vec![
                ("name".into(), "nginx-0.default".into()),
                ("addresses".into(), "00:00:00:AA:BB:CC 10.16.0.5".into()),
                ("port_security".into(), "00:00:00:AA:BB:CC 10.16.0.5".into()),
                (
                    "external_ids".into(),
                    Value::Map(vec![
                        (s("ls"), s("ovn-default")),
                        (s("pod"), s("default/nginx-0")),
                        (s("vendor"), s("kube-ovn")),
                    ]),
                ),
            ],
        },
        Operation::Mutate {
            table: "Logical_Switch".into(),
            conditions: by_uuid(LS_UUID),
            mutations: vec![Mutation {
                column: "ports".into(),
                mutator: Mutator::Insert,
                value: Value::Set(vec![Atom::NamedUuid("u0000000002".into())]),
            }],
        },
    ];
    assert_eq!(
        transact(5, &ops).unwrap(),
        r#"{"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch_Port","uuid-name":"u0000000002","row":{"name":"nginx-0.default","addresses":"00:00:00:AA:BB:CC 10.16.0.5","port_security":"00:00:00:AA:BB:CC 10.16.0.5","external_ids":["map",[["ls","ovn-default"],["pod","default/nginx-0"],["vendor","kube-ovn"]]]}},{"op":"mutate","table":"Logical_Switch","where":[["_uuid","==",["uuid","2984cbff-b6fc-4d64-acb3-ca5d1b596982"]]],"mutations":[["ports","insert",["set",[["named-uuid","u0000000002"]]]]]}],"id":5}"#
    );
}

#[test]
fn lsp_delete_matches_vector() {
    let ops = [
        Operation::Mutate {
            table: "Logical_Switch".into(),
            conditions: by_uuid(LS_UUID),
            mutations: vec![Mutation {
                column: "ports".into(),
                mutator: Mutator::Delete,
                value: Value::Set(vec![Atom::Uuid(LSP_UUID.into())]),
            }],
        },
        Operation::Delete {
            table: "Logical_Switch_Port".into(),
            conditions: by_uuid(LSP_UUID),
        },
    ];
    assert_eq!(
        transact(14, &ops).unwrap(),
        format!(
            r#"{{"method":"transact","params":["OVN_Northbound",{{"op":"mutate","table":"Logical_Switch","where":[["_uuid","==",["uuid","{LS_UUID}"]]],"mutations":[["ports","delete",["set",[["uuid","{LSP_UUID}"]]]]]}},{{"op":"delete","table":"Logical_Switch_Port","where":[["_uuid","==",["uuid","{LSP_UUID}"]]]}}],"id":14}}"#
        )
    );
}

#[test]
fn nb_cfg_bump_wait_mutate_select() {
    let ops = [
        Operation::Wait {
            table: "NB_Global".into(),
            timeout: Some(Number::Integer(0)),
            conditions: vec![],
            columns: vec!["nb_cfg".into()],
            until: Until::Ne,
            rows: vec![vec![(
                "nb_cfg".into(),
                Atom::Number(Number::Integer(-1)).into(),
            )]],
        },
        Operation::Mutate {
            table: "NB_Global".into(),
            conditions: vec![],
            mutations: vec![Mutation {
                column: "nb_cfg".into(),
                mutator: Mutator::Add,
                value: Atom::Number(Number::Integer(1)).into(),
            }],
        },
        Operation::Select {
            table: "NB_Global".into(),
            conditions: vec![],
            columns: Some(vec!["nb_cfg".into()]),
        },
    ];
    let out = transact(1, &ops).unwrap();
    assert_eq!(
        out,
        r#"{"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"NB_Global","timeout":0,"where":[],"columns":["nb_cfg"],"until":"!=","rows":[{"nb_cfg":-1}]},{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","+=",1]]},{"op":"select","table":"NB_Global","where":[],"columns":["nb_cfg"]}],"id":1}"#
    );
}

#[test]
fn remaining_ops() {
    let ops = [
        Operation::Update {
            table: "Logical_Switch".into(),
            conditions: vec![Condition {
                column: "name".into(),
                function: Function::Ne,
                value: Value::Set(vec![]),
            }],
            row: vec![("other_config".into(), Value::Map(vec![]))],
        },
        Operation::Comment {
            comment: "ovnkit \"test\"\n".into(),
        },
        Operation::Assert {
            lock: "ovnkit_lock".into(),
        },
        Operation::Commit { durable: false },
        Operation::Abort,
    ];
    assert_eq!(
        transact(7, &ops).unwrap(),
        r#"{"method":"transact","params":["OVN_Northbound",{"op":"update","table":"Logical_Switch","where":[["name","!=",["set",[]]]],"row":{"other_config":["map",[]]}},{"op":"comment","comment":"ovnkit \"test\"\n"},{"op":"assert","lock":"ovnkit_lock"},{"op":"commit","durable":false},{"op":"abort"}],"id":7}"#
    );
}

#[test]
fn bad_input_is_refused_with_its_place_and_nothing_written() {
    let mut out = b"prefix".to_vec();
    let ops = [
        Operation::Abort,
        Operation::Insert {
            table: "Logical_Switch".into(),
            uuid_name: Some("bad-name".into()),
            row: vec![],
        },
    ];
    let err = encode_transact(&mut out, id(1), "OVN_Northbound".into(), &ops).unwrap_err();
    assert_eq!(out, b"prefix");
    assert_eq!(err.op_index, Some(1));
    assert_eq!(err.table.as_deref(), Some("Logical_Switch"));
    assert_eq!(err.method, Some("transact"));
    assert!(err.reason.contains("uuid-name"), "{err}");

    let named = [Operation::Mutate {
        table: "Logical_Switch".into(),
        conditions: vec![],
        mutations: vec![Mutation {
            column: "ports".into(),
            mutator: Mutator::Insert,
            value: Atom::NamedUuid("9abc".into()).into(),
        }],
    }];
    assert!(
        transact(1, &named)
            .unwrap_err()
            .reason
            .contains("named-uuid")
    );
    let bad_uuid = [Operation::Delete {
        table: "Logical_Switch".into(),
        conditions: by_uuid("not-a-uuid"),
    }];
    assert!(
        transact(1, &bad_uuid)
            .unwrap_err()
            .reason
            .contains("bad uuid")
    );
    let bad_table = [Operation::Delete {
        table: "Logical Switch".into(),
        conditions: vec![],
    }];
    assert!(
        transact(1, &bad_table)
            .unwrap_err()
            .reason
            .contains("table")
    );
    let bad_column = [Operation::Insert {
        table: "Logical_Switch".into(),
        uuid_name: None,
        row: vec![("9lives".into(), "x".into())],
    }];
    assert!(
        transact(1, &bad_column)
            .unwrap_err()
            .reason
            .contains("column")
    );
    let nan = [Operation::Insert {
        table: "T".into(),
        uuid_name: None,
        row: vec![("n".into(), Atom::Number(Number::Real(f64::NAN)).into())],
    }];
    assert!(transact(1, &nan).unwrap_err().reason.contains("finite"));
}

#[test]
fn other_methods_match_vectors() {
    let mut out = Vec::new();
    encode_list_dbs(&mut out, id(1)).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"list_dbs","params":[],"id":1}"#
    );
    encode_get_schema(&mut out, id(2), "OVN_Northbound".into()).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"get_schema","params":["OVN_Northbound"],"id":2}"#
    );
    encode_echo(
        &mut out,
        id(3),
        &[
            Json::String("ping".into()),
            Json::Number(Number::Integer(42)),
        ],
    )
    .unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"echo","params":["ping",42],"id":3}"#
    );
    encode_reply(&mut out, RpcId::String("echo".into()), &Json::Array(vec![])).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"id":"echo","result":[],"error":null}"#
    );
    encode_set_db_change_aware(&mut out, id(9), true).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"set_db_change_aware","params":[true],"id":9}"#
    );
    encode_lock(&mut out, id(10), "ovnkit".into()).unwrap();
    encode_steal(&mut out, id(11), "ovnkit".into()).unwrap();
    encode_unlock(&mut out, RpcId::Null, "ovnkit".into()).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"lock","params":["ovnkit"],"id":10}{"method":"steal","params":["ovnkit"],"id":11}{"method":"unlock","params":["ovnkit"],"id":null}"#
    );
    encode_request(
        &mut out,
        "no_such_method".into(),
        &[Json::Object(vec![("k".into(), Json::Null)])],
        id(13),
    )
    .unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"no_such_method","params":[{"k":null}],"id":13}"#
    );

    let tables = [(
        Text::from("Logical_Switch_Port"),
        vec![MonitorRequest {
            columns: Some(vec![
                "name".into(),
                "addresses".into(),
                "port_security".into(),
                "external_ids".into(),
            ]),
            ..Default::default()
        }],
    )];
    encode_monitor_cond(
        &mut out,
        id(1),
        "OVN_Northbound".into(),
        &Json::String("mon-lsp".into()),
        &tables,
    )
    .unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"monitor_cond","params":["OVN_Northbound","mon-lsp",{"Logical_Switch_Port":[{"columns":["name","addresses","port_security","external_ids"]}]}],"id":1}"#
    );
    encode_monitor_cond_since(
        &mut out,
        id(1),
        "OVN_Northbound".into(),
        &Json::String("mon3".into()),
        &tables,
        "00000000-0000-0000-0000-000000000000".into(),
    )
    .unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"monitor_cond_since","params":["OVN_Northbound","mon3",{"Logical_Switch_Port":[{"columns":["name","addresses","port_security","external_ids"]}]},"00000000-0000-0000-0000-000000000000"],"id":1}"#
    );
    encode_monitor_cancel(&mut out, id(20), &Json::String("mon-lsp".into())).unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"monitor_cancel","params":["mon-lsp"],"id":20}"#
    );

    let filtered = [(
        Text::from("Logical_Switch_Port"),
        vec![MonitorRequest {
            columns: None,
            conditions: Some(MonitorWhere::Clauses(vec![
                WhereClause::Condition(Condition {
                    column: "name".into(),
                    function: Function::Includes,
                    value: "a".into(),
                }),
                WhereClause::Literal(false),
            ])),
            select: Some(MonitorSelect {
                initial: Some(true),
                modify: Some(false),
                ..Default::default()
            }),
        }],
    )];
    encode_monitor_cond(
        &mut out,
        RpcId::String("m".into()),
        "OVN_Northbound".into(),
        &Json::Null,
        &filtered,
    )
    .unwrap();
    assert_eq!(
        text(std::mem::take(&mut out)),
        r#"{"method":"monitor_cond","params":["OVN_Northbound",null,{"Logical_Switch_Port":[{"where":[["name","includes","a"],false],"select":{"initial":true,"modify":false}}]}],"id":"m"}"#
    );
    let err = encode_monitor_cond_since(
        &mut out,
        id(1),
        "OVN_Northbound".into(),
        &Json::Null,
        &tables,
        "x".into(),
    )
    .unwrap_err();
    assert_eq!(err.method, Some("monitor_cond_since"));
    assert!(out.is_empty());
}
