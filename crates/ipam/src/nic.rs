//! NIC records: one compact record per (subnet, owner, nic), in a paged slab so growth never
//! copies everything, with an owner index (owner -> chain of that owner's NICs in every subnet).
//! Names live inline when short, which is what keeps an allocation under ~100 bytes.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::hash::hash_bytes;

pub type NicId = u32;
pub const NONE: u32 = u32::MAX;

const PAGE: usize = 4096;
const INLINE: usize = 22;
const LONG: u8 = 0xff;

pub const HAS_MAC: u64 = 1 << 48;
pub const HAS_V4: u64 = 1 << 49;
pub const HAS_V6: u64 = 1 << 50;
const MAC_MASK: u64 = (1 << 48) - 1;

#[derive(Clone)]
pub struct NicRec {
    /// [owner_len, nic_len, owner bytes, nic bytes] or [LONG, index (4 bytes LE), owner_len (4 bytes LE), ...].
    names: [u8; 24],
    v6: [u64; 2],
    v4: u32,
    next_of_owner: u32,
    /// MAC in the low 48 bits, HAS_* flags above.
    bits: u64,
    pub subnet: u32,
}

impl NicRec {
    pub fn v4(&self) -> Option<u32> {
        (self.bits & HAS_V4 != 0).then_some(self.v4)
    }
    pub fn v6(&self) -> Option<u128> {
        (self.bits & HAS_V6 != 0).then_some((u128::from(self.v6[0]) << 64) | u128::from(self.v6[1]))
    }
    pub fn addr(&self, v6: bool) -> Option<u128> {
        if v6 { self.v6() } else { self.v4().map(u128::from) }
    }
    pub fn mac(&self) -> Option<u64> {
        (self.bits & HAS_MAC != 0).then_some(self.bits & MAC_MASK)
    }
    pub fn set_addr(&mut self, v6: bool, v: Option<u128>) {
        match (v6, v) {
            (false, Some(a)) => {
                self.v4 = a as u32;
                self.bits |= HAS_V4;
            }
            (false, None) => self.bits &= !HAS_V4,
            (true, Some(a)) => {
                self.v6 = [(a >> 64) as u64, a as u64];
                self.bits |= HAS_V6;
            }
            (true, None) => self.bits &= !HAS_V6,
        }
    }
    pub fn set_mac(&mut self, mac: Option<u64>) {
        self.bits &= !(HAS_MAC | MAC_MASK);
        if let Some(m) = mac {
            self.bits |= HAS_MAC | (m & MAC_MASK);
        }
    }
    pub fn has_any_addr(&self) -> bool {
        self.bits & (HAS_V4 | HAS_V6) != 0
    }
}

#[derive(Default)]
pub struct NicStore {
    pages: Vec<Vec<NicRec>>,
    free_head: u32,
    long_names: Vec<Option<Box<str>>>,
    long_free: Vec<u32>,
    owners: HashTable<u32>,
    seed: u64,
    live: usize,
    slots: usize,
}

fn rec(pages: &[Vec<NicRec>], id: NicId) -> &NicRec {
    &pages[id as usize / PAGE][id as usize % PAGE]
}

/// The record's (owner, nic) bytes; names are validated ASCII.
fn name_bytes<'a>(pages: &'a [Vec<NicRec>], long: &'a [Option<Box<str>>], id: NicId) -> (&'a [u8], &'a [u8]) {
    let r = rec(pages, id);
    if r.names[0] == LONG {
        let idx = u32::from_le_bytes([r.names[1], r.names[2], r.names[3], r.names[4]]) as usize;
        let owner_len = u32::from_le_bytes([r.names[5], r.names[6], r.names[7], r.names[8]]) as usize;
        let text = long[idx].as_deref().unwrap_or("").as_bytes();
        (&text[..owner_len], &text[owner_len..])
    } else {
        let (ol, nl) = (r.names[0] as usize, r.names[1] as usize);
        (&r.names[2..2 + ol], &r.names[2 + ol..2 + ol + nl])
    }
}

fn names_of<'a>(pages: &'a [Vec<NicRec>], long: &'a [Option<Box<str>>], id: NicId) -> (&'a str, &'a str) {
    let (o, n) = name_bytes(pages, long, id);
    (std::str::from_utf8(o).unwrap_or(""), std::str::from_utf8(n).unwrap_or(""))
}

impl NicStore {
    pub fn new(seed: u64) -> Self {
        NicStore { free_head: NONE, seed, ..Default::default() }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.pages.iter().map(|p| p.capacity() * std::mem::size_of::<NicRec>()).sum::<usize>()
            + self.pages.capacity() * 24
            + self.long_names.capacity() * 16
            + self.long_names.iter().flatten().map(|s| s.len()).sum::<usize>()
            + self.long_free.capacity() * 4
            + self.owners.capacity() * 5
    }

    /// Makes room for `additional` more owners (bulk restore), so the index is not rehashed
    /// over and over while it grows.
    pub fn reserve(&mut self, additional: usize) {
        let (pages, long, seed) = (&self.pages, &self.long_names, self.seed);
        self.owners.reserve(additional, |&cur| hash_bytes(seed, name_bytes(pages, long, cur).0));
    }

    #[inline]
    pub fn get(&self, id: NicId) -> &NicRec {
        rec(&self.pages, id)
    }

    #[inline]
    pub fn get_mut(&mut self, id: NicId) -> &mut NicRec {
        &mut self.pages[id as usize / PAGE][id as usize % PAGE]
    }

    pub fn names(&self, id: NicId) -> (&str, &str) {
        names_of(&self.pages, &self.long_names, id)
    }

    fn owner_head(&self, owner: &str) -> Option<NicId> {
        let h = hash_bytes(self.seed, owner.as_bytes());
        self.owners.find(h, |&id| name_bytes(&self.pages, &self.long_names, id).0 == owner.as_bytes()).copied()
    }

    /// Every NIC of the owner, in any subnet.
    pub fn of_owner(&self, owner: &str) -> Vec<NicId> {
        let mut out = Vec::new();
        let mut cur = self.owner_head(owner).unwrap_or(NONE);
        while cur != NONE {
            out.push(cur);
            cur = self.get(cur).next_of_owner;
        }
        out
    }

    pub fn find(&self, subnet: u32, owner: &str, nic: &str) -> Option<NicId> {
        let mut cur = self.owner_head(owner)?;
        while cur != NONE {
            if self.get(cur).subnet == subnet && name_bytes(&self.pages, &self.long_names, cur).1 == nic.as_bytes() {
                return Some(cur);
            }
            cur = self.get(cur).next_of_owner;
        }
        None
    }

    pub fn insert(&mut self, subnet: u32, owner: &str, nic: &str) -> NicId {
        let mut names = [0u8; 24];
        if owner.len() + nic.len() <= INLINE && owner.len() < usize::from(LONG) {
            names[0] = owner.len() as u8;
            names[1] = nic.len() as u8;
            names[2..2 + owner.len()].copy_from_slice(owner.as_bytes());
            names[2 + owner.len()..2 + owner.len() + nic.len()].copy_from_slice(nic.as_bytes());
        } else {
            let text: Box<str> = format!("{owner}{nic}").into_boxed_str();
            let idx = match self.long_free.pop() {
                Some(i) => {
                    self.long_names[i as usize] = Some(text);
                    i
                }
                None => {
                    self.long_names.push(Some(text));
                    (self.long_names.len() - 1) as u32
                }
            };
            names[0] = LONG;
            names[1..5].copy_from_slice(&idx.to_le_bytes());
            names[5..9].copy_from_slice(&(owner.len() as u32).to_le_bytes());
        }
        let record = NicRec { names, v6: [0, 0], v4: 0, next_of_owner: NONE, bits: 0, subnet };
        let id = if self.free_head != NONE {
            let id = self.free_head;
            self.free_head = self.get(id).next_of_owner;
            *self.get_mut(id) = record;
            id
        } else {
            let id = self.slots;
            self.slots += 1;
            if id.is_multiple_of(PAGE) {
                self.pages.push(Vec::with_capacity(PAGE));
            }
            self.pages.last_mut().expect("page pushed above").push(record);
            id as u32
        };
        // One hash and one probe: the new NIC becomes the head of its owner's chain.
        let h = hash_bytes(self.seed, owner.as_bytes());
        let (pages, long) = (&self.pages, &self.long_names);
        let seed = self.seed;
        let previous = match self.owners.entry(
            h,
            |&cur| name_bytes(pages, long, cur).0 == owner.as_bytes(),
            |&cur| hash_bytes(seed, name_bytes(pages, long, cur).0),
        ) {
            Entry::Occupied(mut e) => std::mem::replace(e.get_mut(), id),
            Entry::Vacant(e) => {
                e.insert(id);
                NONE
            }
        };
        self.get_mut(id).next_of_owner = previous;
        self.live += 1;
        id
    }

    pub fn remove(&mut self, id: NicId) {
        let next = self.get(id).next_of_owner;
        let (pages, long) = (&self.pages, &self.long_names);
        let owner = name_bytes(pages, long, id).0;
        let h = hash_bytes(self.seed, owner);
        let head = match self.owners.find_entry(h, |&cur| name_bytes(pages, long, cur).0 == owner) {
            Ok(entry) => {
                let head = *entry.get();
                if head == id {
                    if next == NONE {
                        entry.remove();
                    } else {
                        *entry.into_mut() = next;
                    }
                }
                head
            }
            Err(_) => NONE,
        };
        if head != id {
            let mut cur = head;
            while cur != NONE {
                let after = self.get(cur).next_of_owner;
                if after == id {
                    self.get_mut(cur).next_of_owner = next;
                    break;
                }
                cur = after;
            }
        }
        let r = self.get(id);
        if r.names[0] == LONG {
            let idx = u32::from_le_bytes([r.names[1], r.names[2], r.names[3], r.names[4]]);
            self.long_names[idx as usize] = None;
            self.long_free.push(idx);
        }
        let free_head = self.free_head;
        let r = self.get_mut(id);
        r.bits = 0;
        r.subnet = NONE;
        r.names = [0; 24];
        r.next_of_owner = free_head;
        self.free_head = id;
        self.live -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_chains_across_subnets() {
        let mut s = NicStore::new(7);
        let a = s.insert(0, "ns/a", "a.ns");
        let b = s.insert(1, "ns/a", "a.ns");
        let long_owner = "some-namespace/a-very-long-pod-name-0123456789";
        let c = s.insert(0, long_owner, "eth0");
        assert_eq!(s.find(0, "ns/a", "a.ns"), Some(a));
        assert_eq!(s.find(1, "ns/a", "a.ns"), Some(b));
        assert_eq!(s.find(1, "ns/a", "x"), None);
        assert_eq!(s.names(c), (long_owner, "eth0"));
        let mut of_a = s.of_owner("ns/a");
        of_a.sort();
        assert_eq!(of_a, vec![a, b]);
        s.remove(a);
        assert_eq!(s.of_owner("ns/a"), vec![b]);
        s.remove(b);
        assert!(s.of_owner("ns/a").is_empty());
        let d = s.insert(2, "ns/d", "d");
        assert_eq!(d, b, "freed slots are reused");
        s.remove(c);
        assert_eq!(s.find(0, long_owner, "eth0"), None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn record_is_compact() {
        assert!(std::mem::size_of::<NicRec>() <= 64);
    }
}
