// Requests and server replies captured from the real OVN NB ovsdb-server (OVS 3.1, OVN 23.03)
// on this machine; source: shared/reference/ovsdb-vectors/vectors.json. get_schema's 14 KB reply
// is not included. Used as byte-exact expectations for the encoders and as framer input.

export interface WireVector {
  name: string;
  request: string;
  response?: string;
  notifications: string[];
}

export const WIRE_VECTORS: readonly WireVector[] = [
  {
    name: "list_dbs",
    request: "{\"method\":\"list_dbs\",\"params\":[],\"id\":1}",
    response: "{\"id\":1,\"result\":[\"OVN_Northbound\",\"_Server\"],\"error\":null}",
    notifications: [],
  },
  {
    name: "get_schema",
    request: "{\"method\":\"get_schema\",\"params\":[\"OVN_Northbound\"],\"id\":2}",
    notifications: [],
  },
  {
    name: "echo",
    request: "{\"method\":\"echo\",\"params\":[\"ping\",42],\"id\":3}",
    response: "{\"id\":3,\"result\":[\"ping\",42],\"error\":null}",
    notifications: [],
  },
  {
    name: "transact insert Logical_Switch",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"uuid-name\":\"u0000000001\",\"row\":{\"name\":\"ovn-default\",\"external_ids\":[\"map\",[[\"vendor\",\"kube-ovn\"]]],\"other_config\":[\"map\",[[\"subnet\",\"10.16.0.0/16\"],[\"exclude_ips\",\"10.16.0.1\"]]]}}],\"id\":4}",
    response: "{\"id\":4,\"result\":[{\"uuid\":[\"uuid\",\"2984cbff-b6fc-4d64-acb3-ca5d1b596982\"]}],\"error\":null}",
    notifications: [],
  },
  {
    name: "monitor_cond Logical_Switch_Port",
    request: "{\"method\":\"monitor_cond\",\"params\":[\"OVN_Northbound\",\"mon-lsp\",{\"Logical_Switch_Port\":[{\"columns\":[\"name\",\"addresses\",\"port_security\",\"external_ids\"]}]}],\"id\":1}",
    response: "{\"id\":1,\"result\":{},\"error\":null}",
    notifications: [],
  },
  {
    name: "monitor_cond_since Logical_Switch_Port",
    request: "{\"method\":\"monitor_cond_since\",\"params\":[\"OVN_Northbound\",\"mon3\",{\"Logical_Switch_Port\":[{\"columns\":[\"name\",\"addresses\",\"port_security\",\"external_ids\"]}]},\"00000000-0000-0000-0000-000000000000\"],\"id\":1}",
    response: "{\"id\":1,\"result\":[false,\"00000000-0000-0000-0000-000000000000\",{}],\"error\":null}",
    notifications: [],
  },
  {
    name: "transact insert Logical_Switch_Port + mutate ports",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch_Port\",\"uuid-name\":\"u0000000002\",\"row\":{\"name\":\"nginx-0.default\",\"addresses\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"port_security\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"external_ids\":[\"map\",[[\"ls\",\"ovn-default\"],[\"pod\",\"default/nginx-0\"],[\"vendor\",\"kube-ovn\"]]]}},{\"op\":\"mutate\",\"table\":\"Logical_Switch\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"2984cbff-b6fc-4d64-acb3-ca5d1b596982\"]]],\"mutations\":[[\"ports\",\"insert\",[\"set\",[[\"named-uuid\",\"u0000000002\"]]]]]}],\"id\":5}",
    response: "{\"id\":5,\"result\":[{\"uuid\":[\"uuid\",\"a152f8ba-a4af-46df-bffc-5101e72cba71\"]},{\"count\":1}],\"error\":null}",
    notifications: ["{\"id\":null,\"method\":\"update2\",\"params\":[\"mon-lsp\",{\"Logical_Switch_Port\":{\"a152f8ba-a4af-46df-bffc-5101e72cba71\":{\"insert\":{\"addresses\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"external_ids\":[\"map\",[[\"ls\",\"ovn-default\"],[\"pod\",\"default/nginx-0\"],[\"vendor\",\"kube-ovn\"]]],\"name\":\"nginx-0.default\",\"port_security\":\"00:00:00:AA:BB:CC 10.16.0.5\"}}}}]}", "{\"id\":null,\"method\":\"update3\",\"params\":[\"mon3\",\"00000000-0000-0000-0000-000000000000\",{\"Logical_Switch_Port\":{\"a152f8ba-a4af-46df-bffc-5101e72cba71\":{\"insert\":{\"addresses\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"external_ids\":[\"map\",[[\"ls\",\"ovn-default\"],[\"pod\",\"default/nginx-0\"],[\"vendor\",\"kube-ovn\"]]],\"name\":\"nginx-0.default\",\"port_security\":\"00:00:00:AA:BB:CC 10.16.0.5\"}}}}]}"],
  },
  {
    name: "transact select LSP by name",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"select\",\"table\":\"Logical_Switch_Port\",\"where\":[[\"name\",\"==\",\"nginx-0.default\"]],\"columns\":[\"_uuid\",\"name\",\"addresses\",\"external_ids\"]}],\"id\":6}",
    response: "{\"id\":6,\"result\":[{\"rows\":[{\"name\":\"nginx-0.default\",\"addresses\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"_uuid\":[\"uuid\",\"a152f8ba-a4af-46df-bffc-5101e72cba71\"],\"external_ids\":[\"map\",[[\"ls\",\"ovn-default\"],[\"pod\",\"default/nginx-0\"],[\"vendor\",\"kube-ovn\"]]]}]}],\"error\":null}",
    notifications: [],
  },
  {
    name: "ERR duplicate LSP name (index)",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch_Port\",\"uuid-name\":\"u0000000003\",\"row\":{\"name\":\"nginx-0.default\",\"addresses\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"port_security\":\"00:00:00:AA:BB:CC 10.16.0.5\",\"external_ids\":[\"map\",[[\"ls\",\"ovn-default\"],[\"pod\",\"default/nginx-0\"],[\"vendor\",\"kube-ovn\"]]]}},{\"op\":\"mutate\",\"table\":\"Logical_Switch\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"2984cbff-b6fc-4d64-acb3-ca5d1b596982\"]]],\"mutations\":[[\"ports\",\"insert\",[\"set\",[[\"named-uuid\",\"u0000000003\"]]]]]}],\"id\":7}",
    response: "{\"id\":7,\"result\":[{\"uuid\":[\"uuid\",\"a2f4c59e-e742-400c-80da-4f11526aad37\"]},{\"count\":1},{\"details\":\"Transaction causes multiple rows in \\\"Logical_Switch_Port\\\" table to have identical values (nginx-0.default) for index on column \\\"name\\\".  First row, with UUID a2f4c59e-e742-400c-80da-4f11526aad37, was inserted by this transaction.  Second row, with UUID a152f8ba-a4af-46df-bffc-5101e72cba71, existed in the database before this transaction and was not modified by the transaction.\",\"error\":\"constraint violation\"}],\"error\":null}",
    notifications: [],
  },
  {
    name: "ERR named-uuid with dash",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"uuid-name\":\"bad-name\",\"row\":{\"name\":\"x\"}}],\"id\":8}",
    response: "{\"id\":8,\"result\":[{\"syntax\":\"{\\\"op\\\":\\\"insert\\\",\\\"row\\\":{\\\"name\\\":\\\"x\\\"},\\\"table\\\":\\\"Logical_Switch\\\",\\\"uuid-name\\\":\\\"bad-name\\\"}\",\"details\":\"Parsing ovsdb operation 1 of 1 failed: Type mismatch for member 'uuid-name'.\",\"error\":\"syntax error\"}],\"error\":null}",
    notifications: [],
  },
  {
    name: "ERR delete LSP still referenced by LS.ports",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"delete\",\"table\":\"Logical_Switch_Port\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"a152f8ba-a4af-46df-bffc-5101e72cba71\"]]]}],\"id\":9}",
    response: "{\"id\":9,\"result\":[{\"count\":1},{\"details\":\"cannot delete Logical_Switch_Port row a152f8ba-a4af-46df-bffc-5101e72cba71 because of 1 remaining reference(s)\",\"error\":\"referential integrity violation\"}],\"error\":null}",
    notifications: [],
  },
  {
    name: "orphan LSP insert (non-root table: garbage-collected)",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch_Port\",\"row\":{\"name\":\"orphan\"}}],\"id\":10}",
    response: "{\"id\":10,\"result\":[{\"uuid\":[\"uuid\",\"606fa861-0763-4901-b9ac-c8ce1a5c4714\"]}],\"error\":null}",
    notifications: [],
  },
  {
    name: "select orphan",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"select\",\"table\":\"Logical_Switch_Port\",\"where\":[[\"name\",\"==\",\"orphan\"]]}],\"id\":11}",
    response: "{\"id\":11,\"result\":[{\"rows\":[]}],\"error\":null}",
    notifications: [],
  },
  {
    name: "ERR unknown column",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"nam\":\"x\"}}],\"id\":12}",
    response: "{\"id\":12,\"result\":[{\"syntax\":\"{\\\"nam\\\":\\\"x\\\"}\",\"details\":\"No column nam in table Logical_Switch.\",\"error\":\"unknown column\"}],\"error\":null}",
    notifications: [],
  },
  {
    name: "ERR unknown method",
    request: "{\"method\":\"frobnicate\",\"params\":[],\"id\":13}",
    response: "{\"id\":13,\"error\":\"unknown method\"}",
    notifications: [],
  },
  {
    name: "transact delete LSP (mutate ports delete + delete)",
    request: "{\"method\":\"transact\",\"params\":[\"OVN_Northbound\",{\"op\":\"mutate\",\"table\":\"Logical_Switch\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"2984cbff-b6fc-4d64-acb3-ca5d1b596982\"]]],\"mutations\":[[\"ports\",\"delete\",[\"set\",[[\"uuid\",\"a152f8ba-a4af-46df-bffc-5101e72cba71\"]]]]]},{\"op\":\"delete\",\"table\":\"Logical_Switch_Port\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"a152f8ba-a4af-46df-bffc-5101e72cba71\"]]]}],\"id\":14}",
    response: "{\"id\":14,\"result\":[{\"count\":1},{\"count\":1}],\"error\":null}",
    notifications: ["{\"id\":null,\"method\":\"update2\",\"params\":[\"mon-lsp\",{\"Logical_Switch_Port\":{\"a152f8ba-a4af-46df-bffc-5101e72cba71\":{\"delete\":null}}}]}", "{\"id\":null,\"method\":\"update3\",\"params\":[\"mon3\",\"00000000-0000-0000-0000-000000000000\",{\"Logical_Switch_Port\":{\"a152f8ba-a4af-46df-bffc-5101e72cba71\":{\"delete\":null}}}]}"],
  },
  {
    name: "cancel monitor",
    request: "{\"method\":\"monitor_cancel\",\"params\":[\"mon-lsp\"],\"id\":2}",
    response: "{\"id\":2,\"result\":{},\"error\":null}",
    notifications: [],
  },
];
