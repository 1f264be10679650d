//! A cache that is never staler than the database.
//!
//! Every entry carries the generation it was read under. The owner (see
//! `sqlite_reads`) advances the generation whenever the database may have
//! changed; an entry of an older generation is never returned, and the
//! first lookup under a new generation drops them all. There is no expiry
//! time: freshness comes from the generation alone, so a revoked token or
//! an archived user is seen on the very next call.
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::telemetry::metrics::ReadCacheStats;

/// Entries of one generation, at most `capacity` of them.
#[derive(Debug)]
pub struct FreshCache<K, V> {
    entries: Mutex<Entries<K, V>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Entries<K, V> {
    generation: u64,
    map: HashMap<K, V>,
}

impl<K: Hash + Eq, V: Clone> FreshCache<K, V> {
    /// An empty cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(Entries {
                generation: 0,
                map: HashMap::new(),
            }),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The entry for `key` if it was stored under `generation`, the
    /// current one; entries of an earlier generation are dropped.
    pub fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = {
            let mut entries = self.lock();
            if entries.generation < generation {
                entries.map.clear();
                entries.generation = generation;
            }
            if entries.generation == generation {
                entries.map.get(key).cloned()
            } else {
                None
            }
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores `value`, read under `generation`. A value read under an
    /// older generation than the cache's is dropped: the database may have
    /// changed since it was read. A full cache starts over rather than
    /// tracking recency, which would cost every hit a write.
    pub fn put(&self, key: K, value: V, generation: u64) {
        let mut entries = self.lock();
        if entries.generation > generation {
            return;
        }
        if entries.generation < generation {
            entries.map.clear();
            entries.generation = generation;
        }
        if entries.map.len() >= self.capacity {
            entries.map.clear();
        }
        entries.map.insert(key, value);
    }

    /// Hits and misses so far, as the metrics show them under `cache`.
    pub fn stats(&self, cache: &'static str) -> ReadCacheStats {
        ReadCacheStats {
            cache,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // The map holds plain values: a panic elsewhere cannot leave it
        // half-updated in a way that matters.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_returned_only_under_its_own_generation() {
        let cache = FreshCache::new(8);
        cache.put("a".to_owned(), 1, 1);

        assert_eq!(cache.get("a", 1), Some(1));
        assert_eq!(cache.get("a", 2), None);
        // Once the cache has moved on, the old generation is gone for good.
        assert_eq!(cache.get("a", 1), None);
        let stats = cache.stats("test");
        assert_eq!((stats.hits, stats.misses), (1, 2));
    }

    #[test]
    fn a_value_read_before_the_latest_change_is_not_stored() {
        let cache = FreshCache::new(8);
        assert_eq!(cache.get("a", 2), None);

        cache.put("a".to_owned(), 1, 1);

        assert_eq!(cache.get("a", 2), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = FreshCache::new(2);
        cache.put("a".to_owned(), 1, 1);
        cache.put("b".to_owned(), 2, 1);
        cache.put("c".to_owned(), 3, 1);

        assert_eq!(cache.get("a", 1), None);
        assert_eq!(cache.get("c", 1), Some(3));
    }
}
