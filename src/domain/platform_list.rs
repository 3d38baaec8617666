//! What the platforms list shows and how it is asked for: the filters, the search, the
//! order and the page (from the URL or the API's query), and the counts beside the filters.

use super::{platform::parse_choice, wire_enum, Category, EncryptionState, FieldErrors, Platform, Status};
use serde::{Deserialize, Serialize};

/// Rows on a page unless the request says otherwise, and the most it may ask for.
pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 500;
/// Longest search text: a name is at most 100 characters.
pub const SEARCH_MAX: usize = 100;

wire_enum! {
    /// The order of the platforms list.
    PlatformSort, "sort" {
        Name => "name", "Name";
        Updated => "updated", "Recently updated";
        Status => "status", "Status, then name";
    }
}

impl Default for PlatformSort {
    fn default() -> Self {
        Self::Name
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
        let sort = parse_choice(&mut errors, "sort", p.sort.as_deref()).unwrap_or_default();
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
            ("sort", (self.sort != PlatformSort::default()).then(|| self.sort.as_str().to_owned())),
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

    /// Whether anything narrows the list (a filter or a search).
    pub fn narrows(&self) -> bool {
        !self.filter.is_empty() || self.search.is_some()
    }
}

/// Which platforms a list shows; `None` means any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

    /// The query string for this filter (without `?`), empty when nothing is filtered.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.category {
            parts.push(format!("category={c}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={s}"));
        }
        if let Some(e) = self.encryption {
            parts.push(format!("encryption={e}"));
        }
        parts.join("&")
    }
}

/// How many platforms each filter choice would show, given the other filters: the numbers
/// beside the category, status and encryption choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCounts {
    /// All platforms, unfiltered.
    pub total: i64,
    /// The platforms the filters let through (all pages).
    pub matching: i64,
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

    #[test]
    fn filter_reads_the_url_and_rejects_unknown_values() {
        let f = PlatformFilter::parse(Some("payment"), Some(""), Some("old_key")).unwrap();
        assert_eq!(
            f,
            PlatformFilter { category: Some(Category::Payment), status: None, encryption: Some(EncryptionState::OldKey) }
        );
        assert_eq!(f.to_query(), "category=payment&encryption=old_key");
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
