//! OVSDB encoder exports (owned by the OVSDB work).
