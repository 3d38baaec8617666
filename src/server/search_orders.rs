//! A search's whole order of matches, in name or status order, kept while no platform
//! changes. No search index yields its matches in name order (FTS5 gives them by key, a
//! trigram index in no order), so a page of a common word in that order reads and sorts
//! every match: at 100,000 platforms a word in 15 % of them costs 7 ms of SQL on SQLite
//! and 15–29 ms on PostgreSQL, for every page and every visitor. The order is kept per
//! search, filter, order and data key, and used only while the platform generation
//! (migration 0032, moved in the same transaction as any change that could reorder or
//! refilter the list) is the one it was read at: an edit is never missed, on any server.
//! Reading a whole order costs more than one page (40 ms for those 15,000 matches: the
//! database sorts them all), so a request that finds none kept is answered by the
//! database's own page, as before, while the order is read once in the background.

use super::store::platforms::PlatformKey;
use crate::domain::{PlatformFilter, PlatformSort};
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

/// A search as ordered: its text, its filters, its order and the data key the encryption
/// filter compares with.
pub type Search = (String, PlatformFilter, PlatformSort, u32);

/// Every match's sort key and search key, in the list's order.
pub type Order = Arc<[(PlatformKey, i64)]>;

/// A longer order is not read whole: its pages are sorted by the database, each for itself.
pub const MAX_ORDER: usize = 50_000;
/// Keys kept in all (about 100 bytes each: 10 MB at most).
const MAX_KEYS: usize = 100_000;
/// Searches kept at most.
const MAX_SEARCHES: usize = 1024;

/// What is known of a search at one generation.
#[derive(Clone)]
pub enum Known {
    Order(Order),
    /// More than [`MAX_ORDER`] matches.
    TooLong,
}

impl Known {
    fn keys(&self) -> usize {
        match self {
            Known::Order(order) => order.len(),
            Known::TooLong => 0,
        }
    }
}

#[derive(Default)]
pub struct SearchOrders(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    searches: HashMap<Search, (i64, Known)>,
    keys: usize,
    /// Searches whose order is being read.
    reading: HashSet<Search>,
}

/// A search's order being read; dropped (read, failed or panicked), the search may be read again.
pub struct Reading {
    orders: Arc<SearchOrders>,
    search: Search,
}

impl Reading {
    pub fn search(&self) -> &Search {
        &self.search
    }

    pub fn orders(&self) -> &SearchOrders {
        &self.orders
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.orders.lock().reading.remove(&self.search);
    }
}

impl SearchOrders {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What was read of `search` at `generation`, if it was.
    pub fn get(&self, search: &Search, generation: i64) -> Option<Known> {
        let kept = self.lock();
        kept.searches.get(search).filter(|(at, _)| *at == generation).map(|(_, known)| known.clone())
    }

    /// Keeps what was read of `search` at `generation`. Whatever was read at an older
    /// generation goes (it can never be used again); a reading older than what is kept
    /// is not kept.
    pub fn keep(&self, search: Search, generation: i64, known: Known) {
        let mut kept = self.lock();
        let newest = kept.searches.values().map(|(at, _)| *at).max();
        if newest.is_some_and(|newest| newest > generation) {
            return;
        }
        if newest.is_some_and(|newest| newest < generation) {
            kept.searches.clear();
            kept.keys = 0;
        }
        if let Some((_, old)) = kept.searches.remove(&search) {
            kept.keys -= old.keys();
        }
        if kept.keys + known.keys() > MAX_KEYS || kept.searches.len() >= MAX_SEARCHES {
            kept.searches.clear();
            kept.keys = 0;
        }
        if known.keys() <= MAX_KEYS {
            kept.keys += known.keys();
            kept.searches.insert(search, (generation, known));
        }
    }

    /// Claims the reading of `search`'s order: `None` while another request's reading of
    /// it runs, so one change costs one reading however many requests follow.
    pub fn start_reading(self: &Arc<Self>, search: &Search) -> Option<Reading> {
        self.lock().reading.insert(search.clone()).then(|| Reading { orders: self.clone(), search: search.clone() })
    }

    /// How many orders are being read (tests wait for none).
    pub fn reading(&self) -> usize {
        self.lock().reading.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;

    fn search(text: &str) -> Search {
        (text.to_owned(), PlatformFilter::default(), PlatformSort::Name, 1)
    }

    fn order(names: &[&str]) -> Known {
        Known::Order(names.iter().enumerate().map(|(i, n)| (PlatformKey::Name((*n).to_owned()), i as i64)).collect())
    }

    fn names(known: Option<Known>) -> Option<Vec<String>> {
        match known? {
            Known::Order(order) => Some(order.iter().map(|(k, _)| format!("{k:?}")).collect()),
            Known::TooLong => Some(vec!["too long".into()]),
        }
    }

    #[test]
    fn an_order_is_used_at_its_own_generation_only_and_for_its_own_search() {
        let orders = SearchOrders::default();
        assert!(orders.get(&search("stripe"), 7).is_none(), "nothing read yet");
        orders.keep(search("stripe"), 7, order(&["a", "b"]));
        assert_eq!(names(orders.get(&search("stripe"), 7)).unwrap().len(), 2);
        assert!(orders.get(&search("stripe"), 8).is_none(), "a platform changed since");
        assert!(orders.get(&search("Stripe"), 7).is_none(), "another text");
        let paid = ("stripe".to_owned(), PlatformFilter { category: Some(Category::Payment), ..Default::default() }, PlatformSort::Name, 1);
        assert!(orders.get(&paid, 7).is_none(), "another filter");
        assert!(orders.get(&("stripe".to_owned(), PlatformFilter::default(), PlatformSort::Status, 1), 7).is_none(), "another order");
        assert!(orders.get(&("stripe".to_owned(), PlatformFilter::default(), PlatformSort::Name, 2), 7).is_none(), "another data key");
    }

    #[test]
    fn a_newer_generation_drops_the_older_and_an_older_reading_is_not_kept() {
        let orders = SearchOrders::default();
        orders.keep(search("stripe"), 7, order(&["a"]));
        orders.keep(search("mail"), 8, order(&["b"]));
        assert!(orders.get(&search("stripe"), 7).is_none(), "gone with its generation");
        assert_eq!(orders.lock().keys, 1);
        orders.keep(search("late"), 7, order(&["c"]));
        assert!(orders.get(&search("late"), 7).is_none(), "read before the change: never used again");
        assert_eq!(names(orders.get(&search("mail"), 8)), Some(vec![format!("{:?}", PlatformKey::Name("b".into()))]));
    }

    #[test]
    fn it_keeps_a_bounded_number_of_keys() {
        let orders = SearchOrders::default();
        let long = |n: usize| Known::Order((0..n).map(|i| (PlatformKey::Name(format!("{i:06}")), i as i64)).collect());
        orders.keep(search("first"), 1, long(MAX_KEYS / 2));
        orders.keep(search("second"), 1, long(MAX_KEYS / 2));
        assert_eq!(orders.lock().keys, MAX_KEYS);
        orders.keep(search("third"), 1, long(1));
        assert!(orders.get(&search("first"), 1).is_none(), "room made");
        assert!(orders.get(&search("third"), 1).is_some());
        assert_eq!(orders.lock().keys, 1);
        orders.keep(search("huge"), 1, Known::TooLong);
        assert_eq!(names(orders.get(&search("huge"), 1)), Some(vec!["too long".to_owned()]), "kept as a mark, without keys");
    }

    #[test]
    fn one_reading_per_search_at_a_time() {
        let orders = Arc::new(SearchOrders::default());
        let first = orders.start_reading(&search("stripe")).expect("nobody reads it yet");
        assert!(orders.start_reading(&search("stripe")).is_none(), "already being read");
        assert!(orders.start_reading(&search("mail")).is_some(), "another search may be read meanwhile");
        assert_eq!(orders.reading(), 1, "the other reading ended when dropped");
        drop(first);
        assert!(orders.start_reading(&search("stripe")).is_some(), "read again once done (or failed)");
    }
}
