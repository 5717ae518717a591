//! What the runs list shows, as its URL says it: the filters, the page size and the page.
//!
//! The page's query string uses the API's own names (`workflow`, `status`, `id_prefix`,
//! `created_after`, `created_before`, `needs=person`, `input.<path>`, `limit`, `cursor`;
//! SPEC §6 "Finding runs"), so a shared link, a reload and back/forward all restore the same
//! list, and the request is the URL minus `page` (which only numbers the rows for
//! "51–100 of …"). Kept free of the DOM so it is tested natively.

use shared::api::RunStatus;

/// The page sizes offered.
pub const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];
/// Rows per page when the URL names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Which runs the list is of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    pub workflow: Option<String>,
    pub status: Option<RunStatus>,
    /// Only runs waiting for an approval or a signal.
    pub needs_person: bool,
    /// A run id, whole or its beginning.
    pub id_prefix: Option<String>,
    /// Created at or after, in milliseconds since the epoch (or as the URL had it).
    pub created_after: Option<String>,
    /// Created before (exclusive), as for `created_after`.
    pub created_before: Option<String>,
    /// Input fields that must equal a value: (`customer.id`, `c-17`). The server reads the
    /// value as JSON when it parses (`42`, `"42"`), else as text.
    pub input: Vec<(String, String)>,
    /// Test runs too (`test=true`; SPEC §6 "Test runs"): the server leaves them out unless
    /// asked.
    pub test: bool,
}

impl Filters {
    /// Whether anything narrows the list.
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Whether the live feed alone can tell if a new run belongs to this list: it says a
    /// run's workflow and status, nothing else.
    pub fn feed_can_judge(&self) -> bool {
        // The feed leaves test runs out.
        !self.needs_person
            && !self.test
            && self.id_prefix.is_none()
            && self.created_after.is_none()
            && self.created_before.is_none()
            && self.input.is_empty()
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                pairs.push((k.to_owned(), v.clone()));
            }
        };
        add("workflow", &self.workflow);
        add("status", &self.status.map(|s| s.as_str().to_owned()));
        add("id_prefix", &self.id_prefix);
        add("created_after", &self.created_after);
        add("created_before", &self.created_before);
        if self.needs_person {
            pairs.push(("needs".to_owned(), "person".to_owned()));
        }
        for (path, value) in &self.input {
            pairs.push((format!("input.{path}"), value.clone()));
        }
        if self.test {
            pairs.push(("test".to_owned(), "true".to_owned()));
        }
        pairs
    }
}

/// The list: its filters and which page of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filters: Filters,
    pub limit: u32,
    /// Where this page starts; `None` for the first (newest) page.
    pub cursor: Option<String>,
    /// This page's number, from 1; only numbers the rows.
    pub page: u32,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filters: Filters::default(),
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
            page: 1,
        }
    }
}

impl ListQuery {
    /// Reads a query string (with or without its `?`). Empty values and names this page does
    /// not know are left out; a bad value the server judges (an input path with a space,
    /// a date it cannot read) is kept, so its message can be shown.
    pub fn from_search(search: &str) -> ListQuery {
        let mut q = ListQuery::default();
        for (key, value) in parse_pairs(search) {
            if value.is_empty() {
                continue;
            }
            let f = &mut q.filters;
            match key.as_str() {
                "workflow" => f.workflow = Some(value),
                "status" => f.status = RunStatus::parse(&value),
                "needs" => f.needs_person = value == "person",
                "test" => f.test = value == "true",
                "id_prefix" => f.id_prefix = Some(value),
                "created_after" => f.created_after = Some(value),
                "created_before" => f.created_before = Some(value),
                "limit" => {
                    if let Ok(n) = value.parse::<u32>() {
                        q.limit = n.clamp(1, 500);
                    }
                }
                "cursor" => q.cursor = Some(value),
                "page" => q.page = value.parse::<u32>().unwrap_or(1).max(1),
                _ => {
                    if let Some(path) = key.strip_prefix("input.") {
                        f.input.push((path.to_owned(), value));
                    }
                }
            }
        }
        if q.cursor.is_none() {
            q.page = 1;
        }
        q
    }

    /// The page's address for this list: `/runs` or `/runs?…`.
    pub fn href(&self) -> String {
        let mut pairs = self.filters.pairs();
        if self.limit != DEFAULT_PAGE_SIZE {
            pairs.push(("limit".to_owned(), self.limit.to_string()));
        }
        if let Some(c) = &self.cursor {
            pairs.push(("cursor".to_owned(), c.clone()));
            pairs.push(("page".to_owned(), self.page.to_string()));
        }
        match join(&pairs) {
            q if q.is_empty() => "/runs".to_owned(),
            q => format!("/runs?{q}"),
        }
    }

    /// The query of `GET /api/runs` for this page.
    pub fn api_query(&self) -> String {
        let mut pairs = vec![("limit".to_owned(), self.limit.to_string())];
        pairs.extend(self.filters.pairs());
        if let Some(c) = &self.cursor {
            pairs.push(("cursor".to_owned(), c.clone()));
        }
        join(&pairs)
    }

    /// The first page of `filters`, at this page size.
    pub fn with_filters(&self, filters: Filters) -> ListQuery {
        ListQuery {
            filters,
            limit: self.limit,
            cursor: None,
            page: 1,
        }
    }

    /// The first page at `limit` rows.
    pub fn with_limit(&self, limit: u32) -> ListQuery {
        ListQuery {
            limit,
            ..self.with_filters(self.filters.clone())
        }
    }

    /// The page after this one, which starts at `cursor`.
    pub fn next(&self, cursor: String) -> ListQuery {
        ListQuery {
            cursor: Some(cursor),
            page: self.page + 1,
            ..self.clone()
        }
    }
}

/// "1–50 of 1,234 runs": the rows shown on page `page` of `limit` rows, out of `total`.
pub fn count_text(page: u32, limit: u32, shown: usize, total: u64) -> String {
    if shown == 0 {
        return match total {
            0 => "No runs".to_owned(),
            n => format!("None here of {} {}", thousands(n), runs(n)),
        };
    }
    let first = u64::from(page.saturating_sub(1)) * u64::from(limit) + 1;
    let last = first + shown as u64 - 1;
    // Runs started since the total was counted can make a page reach past it.
    let total = total.max(last);
    format!(
        "{}–{} of {} {}",
        thousands(first),
        thousands(last),
        thousands(total),
        runs(total)
    )
}

fn runs(n: u64) -> &'static str {
    if n == 1 { "run" } else { "runs" }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The "until" the form shows is the last minute it includes; the API's `created_before`
/// excludes its instant, so it is that minute's end.
pub const MINUTE_MS: i64 = 60_000;

fn join(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn parse_pairs(search: &str) -> Vec<(String, String)> {
    search
        .strip_prefix('?')
        .unwrap_or(search)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// As `encodeURIComponent`: all but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads a form-encoded component: `+` is a space, `%XX` a byte.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_runs_are_asked_for_only_when_shown() {
        let q = ListQuery::from_search("workflow=order&test=true");
        assert!(q.filters.test);
        assert!(q.api_query().contains("test=true"), "{}", q.api_query());
        assert!(!q.filters.feed_can_judge(), "the feed leaves test runs out");
        let q = ListQuery::from_search("workflow=order");
        assert!(!q.filters.test);
        assert!(!q.api_query().contains("test="), "{}", q.api_query());
    }

    #[test]
    fn a_query_string_reads_into_filters_and_writes_back_the_same() {
        let search = "workflow=order&status=running&needs=person&id_prefix=018f&created_after=1700000000000&input.customer.id=c-17&input.code=%2242%22&limit=100";
        let q = ListQuery::from_search(search);
        assert_eq!(q.filters.workflow.as_deref(), Some("order"));
        assert_eq!(q.filters.status, Some(RunStatus::Running));
        assert!(q.filters.needs_person);
        assert_eq!(q.filters.id_prefix.as_deref(), Some("018f"));
        assert_eq!(q.filters.created_after.as_deref(), Some("1700000000000"));
        assert_eq!(
            q.filters.input,
            vec![
                ("customer.id".to_owned(), "c-17".to_owned()),
                ("code".to_owned(), "\"42\"".to_owned())
            ]
        );
        assert_eq!((q.limit, q.page, q.cursor.clone()), (100, 1, None));
        assert_eq!(ListQuery::from_search(&q.href()["/runs?".len()..]), q);
        assert_eq!(
            q.api_query(),
            "limit=100&workflow=order&status=running&id_prefix=018f&created_after=1700000000000&needs=person&input.customer.id=c-17&input.code=%2242%22"
        );
    }

    #[test]
    fn nothing_set_is_plain_runs_and_asks_for_the_default_page() {
        let q = ListQuery::from_search("");
        assert_eq!(q, ListQuery::default());
        assert!(q.filters.is_empty());
        assert_eq!(q.href(), "/runs");
        assert_eq!(q.api_query(), "limit=50");
        // Empty values (a cleared field) are no filter.
        assert_eq!(ListQuery::from_search("?workflow=&id_prefix="), q);
    }

    #[test]
    fn a_bad_input_path_is_kept_for_the_server_to_judge() {
        let q = ListQuery::from_search("input.bad%20path=1");
        assert_eq!(
            q.filters.input,
            vec![("bad path".to_owned(), "1".to_owned())]
        );
        assert_eq!(q.api_query(), "limit=50&input.bad%20path=1");
    }

    #[test]
    fn paging_keeps_filters_and_a_new_filter_or_size_starts_at_the_first_page() {
        let q = ListQuery::from_search("workflow=w&limit=25");
        let next = q.next("c2".into());
        assert_eq!((next.page, next.cursor.as_deref()), (2, Some("c2")));
        assert_eq!(next.href(), "/runs?workflow=w&limit=25&cursor=c2&page=2");
        assert_eq!(ListQuery::from_search(&next.href()[6..]), next);
        let sized = next.with_limit(200);
        assert_eq!((sized.page, sized.cursor, sized.limit), (1, None, 200));
        let other = next.with_filters(Filters::default());
        assert_eq!(other.href(), "/runs?limit=25");
        // A page number without its cursor means nothing.
        assert_eq!(ListQuery::from_search("page=3").page, 1);
        assert_eq!(ListQuery::from_search("limit=9999").limit, 500);
    }

    #[test]
    fn only_workflow_and_status_are_for_the_feed_to_judge() {
        let mut f = Filters {
            workflow: Some("w".into()),
            status: Some(RunStatus::Failed),
            ..Filters::default()
        };
        assert!(f.feed_can_judge());
        f.needs_person = true;
        assert!(!f.feed_can_judge());
        let f = Filters {
            input: vec![("a".into(), "1".into())],
            ..Filters::default()
        };
        assert!(!f.feed_can_judge());
    }

    #[test]
    fn counts_read_as_a_range_of_the_total() {
        assert_eq!(count_text(1, 50, 50, 1234), "1–50 of 1,234 runs");
        assert_eq!(count_text(3, 50, 34, 134), "101–134 of 134 runs");
        assert_eq!(count_text(1, 25, 1, 1), "1–1 of 1 run");
        assert_eq!(count_text(1, 25, 0, 0), "No runs");
        // New runs since the count: the range never passes the total.
        assert_eq!(count_text(1, 25, 3, 2), "1–3 of 3 runs");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn encoding_matches_encode_uri_component_and_decoding_undoes_it() {
        assert_eq!(encode("a b/é\""), "a%20b%2F%C3%A9%22");
        assert_eq!(decode("a%20b%2F%C3%A9%22"), "a b/é\"");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%é"), "%é");
    }
}
