//! The N-API translation layer: argument checks, error codes, catch_unwind. No business rules here.
#![deny(clippy::all)]

mod ipam;
mod ovsdb;
