//! What the platforms list shows and how it is asked for: the filters, the search, the
//! order and the page (from the URL or the API's query), and the counts beside the filters.

use super::{platform::parse_choice, wire_enum, Category, EncryptionState, FieldErrors, Platform, Status};
use serde::{Deserialize, Serialize};

/// Rows on a page unless the request says otherwise, and the most it may ask for.
pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 500;
/// Longest search text: a name is at most 100 characters.
pub const SEARCH_MAX: usize = 100;
/// A search counts its matches up to this many ("1,000+").
pub const SEARCH_COUNT_MAX: i64 = 1000;

wire_enum! {
    /// The order of the platforms list.
    PlatformSort, "sort" {
        Name => "name", "Name";
        Updated => "updated", "Recently updated";
        Added => "added", "Newest first";
        Status => "status", "Status, then name";
    }
}

impl Default for PlatformSort {
    fn default() -> Self {
        Self::Name
    }
}

impl PlatformSort {
    /// The order a list takes when none is asked for: by name, and a search's matches
    /// newest first. A common word matches thousands: in name order they must all be read
    /// and sorted (every search index yields its matches in another order; the server keeps
    /// that order until a platform changes, server::search_orders), while the newest 50 are
    /// the first ones the index gives (docs/performance.md, "A common word, newest first").
    pub fn default_for(searched: bool) -> Self {
        if searched {
            Self::Added
        } else {
            Self::Name
        }
    }
}

/// The list's query values as they arrive (URL or API), each optional, unchecked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListParams {
    pub category: Option<String>,
    pub status: Option<String>,
    pub encryption: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A checked request for one page of the list. The cursor stays opaque here: the server
/// reads it (it names a row's place in `sort`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformQuery {
    pub filter: PlatformFilter,
    /// Text the name or description contains (case-insensitive); trimmed, never empty.
    pub search: Option<String>,
    pub sort: PlatformSort,
    pub cursor: Option<String>,
    pub limit: u32,
}

impl Default for PlatformQuery {
    fn default() -> Self {
        Self { filter: PlatformFilter::default(), search: None, sort: PlatformSort::default(), cursor: None, limit: PAGE_DEFAULT }
    }
}

impl PlatformQuery {
    /// Checks every value, naming each one that is wrong.
    pub fn parse(p: &ListParams) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let filter = PlatformFilter::parse(p.category.as_deref(), p.status.as_deref(), p.encryption.as_deref())
            .unwrap_or_else(|e| {
                errors.0.extend(e.0);
                PlatformFilter::default()
            });
        let search = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        if search.as_ref().is_some_and(|q| q.chars().count() > SEARCH_MAX) {
            errors.add("q", format!("is longer than {SEARCH_MAX} characters"));
        }
        let sort = parse_choice(&mut errors, "sort", p.sort.as_deref()).unwrap_or(PlatformSort::default_for(search.is_some()));
        let limit = match p.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => PAGE_DEFAULT,
            Some(l) => match l.parse::<u32>() {
                Ok(n @ 1..=PAGE_MAX) => n,
                _ => {
                    errors.add("limit", format!("must be a whole number from 1 to {PAGE_MAX}"));
                    PAGE_DEFAULT
                }
            },
        };
        let cursor = p.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
        errors.into_result(Self { filter, search, sort, cursor, limit })
    }

    /// The query string (without `?`) of this view at `cursor`: only what differs from the
    /// defaults, so the plain list stays `/platforms`.
    pub fn to_query(&self, cursor: Option<&str>) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        let f = &self.filter;
        let pairs = [
            ("category", f.category.map(|c| c.as_str().to_owned())),
            ("status", f.status.map(|s| s.as_str().to_owned())),
            ("encryption", f.encryption.map(|e| e.as_str().to_owned())),
            ("q", self.search.clone()),
            ("sort", (self.sort != self.default_sort()).then(|| self.sort.as_str().to_owned())),
            ("limit", (self.limit != PAGE_DEFAULT).then(|| self.limit.to_string())),
            ("cursor", cursor.map(str::to_owned)),
        ];
        for (name, value) in pairs {
            if let Some(value) = value {
                url.append_pair(name, &value);
            }
        }
        url.finish()
    }

    /// The order this view takes when its URL names none.
    pub fn default_sort(&self) -> PlatformSort {
        PlatformSort::default_for(self.search.is_some())
    }

    /// This view searching for `search` instead: an order the view only had by default
    /// becomes the new search's default.
    pub fn searching(&self, search: Option<String>) -> Self {
        let implicit = self.sort == self.default_sort();
        let mut next = Self { search, cursor: None, ..self.clone() };
        if implicit {
            next.sort = next.default_sort();
        }
        next
    }

    /// Whether anything narrows the list (a filter or a search).
    pub fn narrows(&self) -> bool {
        !self.filter.is_empty() || self.search.is_some()
    }
}

/// Which platforms a list shows; `None` means any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlatformFilter {
    pub category: Option<Category>,
    pub status: Option<Status>,
    pub encryption: Option<EncryptionState>,
}

impl PlatformFilter {
    /// Reads the filter from URL query values; an empty value means "any".
    pub fn parse(category: Option<&str>, status: Option<&str>, encryption: Option<&str>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let category = parse_choice(&mut errors, "category", category);
        let status = parse_choice(&mut errors, "status", status);
        let encryption = parse_choice(&mut errors, "encryption", encryption);
        errors.into_result(Self { category, status, encryption })
    }

    /// Whether a platform with these properties is shown.
    pub fn matches(&self, category: Category, status: Status, encryption: EncryptionState) -> bool {
        self.category.is_none_or(|c| c == category)
            && self.status.is_none_or(|s| s == status)
            && self.encryption.is_none_or(|e| e == encryption)
    }

    pub fn is_empty(&self) -> bool {
        self.category.is_none() && self.status.is_none() && self.encryption.is_none()
    }
}

/// How many platforms each filter choice would show, given the other filters: the numbers
/// beside the category, status and encryption choices. A search has no per-choice
/// numbers (counting every match of a common word costs more than the page), and counts
/// its matches up to [`SEARCH_COUNT_MAX`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCounts {
    /// All platforms, unfiltered.
    pub total: i64,
    /// The platforms the filters (and search) let through, on all pages.
    pub matching: i64,
    /// `matching` stopped at [`SEARCH_COUNT_MAX`]: there are more.
    pub capped: bool,
    pub by_category: Vec<(Category, i64)>,
    pub by_status: Vec<(Status, i64)>,
    pub by_encryption: Vec<(EncryptionState, i64)>,
}

/// The properties a platform is filtered by.
pub type FacetKey = (Category, Status, EncryptionState);

impl FacetCounts {
    /// Counts each choice of one filter among the platforms that match the other filters,
    /// from how many platforms share each combination (a grouped query's rows).
    pub fn new(groups: &[(FacetKey, i64)], filter: &PlatformFilter) -> Self {
        let count = |other_filters: PlatformFilter, choice: &dyn Fn(&FacetKey) -> bool| -> i64 {
            groups.iter().filter(|&&((c, s, e), _)| other_filters.matches(c, s, e) && choice(&(c, s, e))).map(|(_, n)| n).sum()
        };
        Self {
            total: groups.iter().map(|(_, n)| n).sum(),
            matching: count(*filter, &|_| true),
            capped: false,
            by_category: Category::ALL
                .iter()
                .map(|&c| (c, count(PlatformFilter { category: None, ..*filter }, &|k| k.0 == c)))
                .collect(),
            by_status: Status::ALL
                .iter()
                .map(|&s| (s, count(PlatformFilter { status: None, ..*filter }, &|k| k.1 == s)))
                .collect(),
            by_encryption: EncryptionState::ALL
                .iter()
                .map(|&e| (e, count(PlatformFilter { encryption: None, ..*filter }, &|k| k.2 == e)))
                .collect(),
        }
    }

    /// The counts of a search: `matching` platforms found (at most [`SEARCH_COUNT_MAX`],
    /// `capped` when there are more), no number per choice.
    pub fn searched(self, matching: i64, capped: bool) -> Self {
        Self { total: self.total, matching, capped, ..Default::default() }
    }

    /// Whether there is a number for each choice.
    pub fn per_choice(&self) -> bool {
        !self.by_category.is_empty()
    }

    pub fn category(&self, category: Category) -> i64 {
        lookup(&self.by_category, category)
    }

    pub fn status(&self, status: Status) -> i64 {
        lookup(&self.by_status, status)
    }

    pub fn encryption(&self, state: EncryptionState) -> i64 {
        lookup(&self.by_encryption, state)
    }
}

fn lookup<T: PartialEq>(counts: &[(T, i64)], key: T) -> i64 {
    counts.iter().find(|(k, _)| *k == key).map_or(0, |x| x.1)
}

/// One page of the platforms list: the rows, the counts beside the filters (of the
/// platforms the search finds), and the cursors of the pages around it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformList {
    pub platforms: Vec<Platform>,
    pub counts: FacetCounts,
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let get = |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_owned());
        ListParams { category: get("category"), status: get("status"), encryption: get("encryption"), q: get("q"), sort: get("sort"), cursor: get("cursor"), limit: get("limit") }
    }

    #[test]
    fn a_query_reads_the_url_with_defaults_and_writes_only_what_differs() {
        let plain = PlatformQuery::parse(&params(&[("q", "  "), ("limit", ""), ("sort", "")])).unwrap();
        assert_eq!(plain, PlatformQuery::default());
        assert_eq!((plain.limit, plain.to_query(None), plain.narrows()), (50, String::new(), false));
        let q = PlatformQuery::parse(&params(&[("q", " Pay & Go "), ("sort", "updated"), ("limit", "500"), ("category", "payment"), ("encryption", "old_key")])).unwrap();
        assert_eq!(q.search.as_deref(), Some("Pay & Go"), "trimmed");
        assert!(q.narrows());
        assert_eq!(q.to_query(Some("abc")), "category=payment&encryption=old_key&q=Pay+%26+Go&sort=updated&limit=500&cursor=abc");
    }

    #[test]
    fn a_search_lists_newest_first_unless_an_order_is_asked_for() {
        let searched = PlatformQuery::parse(&params(&[("q", "stripe")])).unwrap();
        assert_eq!((searched.sort, searched.to_query(None)), (PlatformSort::Added, "q=stripe".to_owned()));
        let by_name = PlatformQuery::parse(&params(&[("q", "stripe"), ("sort", "name")])).unwrap();
        assert_eq!((by_name.sort, by_name.to_query(None)), (PlatformSort::Name, "q=stripe&sort=name".to_owned()));
        assert_eq!(PlatformQuery::default().searching(Some("stripe".into())), searched, "the plain list's order was not chosen");
        assert_eq!(searched.searching(None), PlatformQuery::default(), "clearing the search restores name order");
        let chosen = PlatformQuery { sort: PlatformSort::Status, ..PlatformQuery::default() };
        assert_eq!(chosen.searching(Some("stripe".into())).sort, PlatformSort::Status, "a chosen order stays");
        assert_eq!(by_name.searching(Some("pay".into())).sort, PlatformSort::Name);
    }

    #[test]
    fn every_bad_list_value_is_named() {
        let long = "x".repeat(SEARCH_MAX + 1);
        let err = PlatformQuery::parse(&params(&[("limit", "0"), ("sort", "price"), ("q", &long), ("status", "dead")])).unwrap_err();
        for field in ["limit", "sort", "q", "status"] {
            assert!(err.get(field).is_some(), "{field}: {err}");
        }
        for limit in ["501", "-1", "ten", "1.5"] {
            assert!(PlatformQuery::parse(&params(&[("limit", limit)])).unwrap_err().get("limit").is_some(), "{limit}");
        }
        assert!(PlatformQuery::parse(&params(&[("q", &"é".repeat(SEARCH_MAX))])).is_ok(), "characters, not bytes");
    }

    #[test]
    fn a_search_keeps_the_total_and_drops_the_per_choice_counts() {
        let groups = [((Category::Social, Status::Active, EncryptionState::Current), 7)];
        let searched = FacetCounts::new(&groups, &PlatformFilter::default()).searched(1000, true);
        assert_eq!((searched.total, searched.matching, searched.capped, searched.per_choice()), (7, 1000, true, false));
        assert!(FacetCounts::new(&groups, &PlatformFilter::default()).per_choice());
    }

    #[test]
    fn filter_reads_the_url_and_rejects_unknown_values() {
        let f = PlatformFilter::parse(Some("payment"), Some(""), Some("old_key")).unwrap();
        assert_eq!(
            f,
            PlatformFilter { category: Some(Category::Payment), status: None, encryption: Some(EncryptionState::OldKey) }
        );
        let err = PlatformFilter::parse(Some("games"), Some("dead"), Some("maybe")).unwrap_err();
        assert!(err.get("category").is_some() && err.get("status").is_some() && err.get("encryption").is_some());
    }

    #[test]
    fn facet_counts_respect_the_other_filters() {
        use EncryptionState::*;
        let platforms = [
            (Category::Social, Status::Active, Current),
            (Category::Social, Status::Active, NoSecret),
            (Category::Social, Status::Active, NoSecret),
            (Category::Social, Status::Error, Failed),
            (Category::Payment, Status::Active, Current),
            (Category::Payment, Status::Active, OldKey),
        ];
        let platforms: Vec<(FacetKey, i64)> = platforms.into_iter().map(|k| (k, 1)).collect();
        let all = FacetCounts::new(&platforms, &PlatformFilter::default());
        assert_eq!((all.total, all.category(Category::Social), all.status(Status::Active)), (6, 4, 5));
        assert_eq!((all.encryption(Current), all.encryption(NoSecret), all.encryption(Failed)), (2, 2, 1));
        let active = PlatformFilter { status: Some(Status::Active), ..Default::default() };
        let c = FacetCounts::new(&platforms, &active);
        assert_eq!(c.category(Category::Social), 3);
        assert_eq!(c.status(Status::Error), 1, "status counts ignore the status filter itself");
        assert_eq!(c.encryption(Failed), 0);
        let social_current = PlatformFilter { category: Some(Category::Social), encryption: Some(Current), status: None };
        let c = FacetCounts::new(&platforms, &social_current);
        assert_eq!((c.status(Status::Active), c.status(Status::Error)), (1, 0));
        assert_eq!(c.category(Category::Payment), 1);
        assert_eq!(c.encryption(NoSecret), 2);
        // One row per combination, with its count, says the same.
        let grouped = [((Category::Social, Status::Active, NoSecret), 2), ((Category::Social, Status::Active, Current), 1)];
        let c = FacetCounts::new(&grouped, &PlatformFilter::default());
        assert_eq!((c.total, c.category(Category::Social), c.encryption(NoSecret)), (3, 3, 2));
    }
}
