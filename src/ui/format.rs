//! Numbers as people read them.

/// "1,234": counts read at a glance.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_digits_by_three() {
        assert_eq!([0, 999, 1000, 1_100, 100_000, 1_234_567].map(super::thousands), ["0", "999", "1,000", "1,100", "100,000", "1,234,567"]);
    }
}
