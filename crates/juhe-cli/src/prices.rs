//! What a check costs, per product, as the user's contract with Juhe says (`--price
//! telecom3=0.25`, or a profile's `[prices]`): exact decimal amounts, never floating point,
//! so a month of checks adds up to the cent.

use std::collections::BTreeMap;
use std::fmt;

use juhe_verify::Product;

/// An amount of money in millionths of the currency's unit: exact for any price written with
/// up to six decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Money(u64);

impl Money {
    /// `count` checks at this price; saturates rather than wraps.
    pub(crate) fn times(self, count: u64) -> Money {
        Money(self.0.saturating_mul(count))
    }

    /// The sum.
    pub(crate) fn plus(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// The amount as a JSON number with the decimals it needs (at least two).
    pub(crate) fn to_json(self) -> serde_json::Value {
        serde_json::from_str(&self.to_string()).unwrap_or(serde_json::Value::Null)
    }

    /// Parses `0.25`, `3`, `1.5`: at most six decimals, at most a million a check.
    fn parse(text: &str) -> Result<Money, String> {
        let text = text.trim();
        let bad = || format!("`{text}` is not a price such as 0.25 (at most six decimals)");
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !fraction.is_none_or(digits) || fraction.is_some_and(|f| f.len() > 6) {
            return Err(bad());
        }
        let whole: u64 = whole.parse().map_err(|_| bad())?;
        if whole > 1_000_000 {
            return Err(format!("`{text}` is more than a million a check"));
        }
        let fraction: u64 = format!("{:0<6}", fraction.unwrap_or("")).parse().map_err(|_| bad())?;
        Ok(Money(whole * 1_000_000 + fraction))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 1_000_000, self.0 % 1_000_000);
        let mut decimals = format!("{fraction:06}");
        while decimals.len() > 2 && decimals.ends_with('0') {
            decimals.pop();
        }
        write!(f, "{whole}.{decimals}")
    }
}

/// A price per product; products without one cost nothing in a report (and it says so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Prices(BTreeMap<&'static str, Money>);

impl Prices {
    /// Sets one price from `PRODUCT=AMOUNT`.
    pub(crate) fn set(&mut self, text: &str) -> Result<(), String> {
        let (product, amount) =
            text.split_once('=').ok_or_else(|| format!("`{text}` is not PRODUCT=PRICE (telecom3=0.25)"))?;
        let product = Product::from_name(product.trim()).ok_or_else(|| {
            let names: Vec<&str> = Product::ALL.iter().map(|p| p.name()).collect();
            format!("`{}` is not a product ({})", product.trim(), names.join(", "))
        })?;
        self.0.insert(product.name(), Money::parse(amount)?);
        Ok(())
    }

    /// The prices typed (`--price`) over the profile's.
    pub(crate) fn over(mut self, base: Prices) -> Prices {
        for (product, price) in base.0 {
            self.0.entry(product).or_insert(price);
        }
        self
    }

    /// The price of one check of `product` (by its name, as the ledger stores it).
    pub(crate) fn of(&self, product: &str) -> Option<Money> {
        self.0.get(product).copied()
    }

    /// Whether no price is known.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The prices, for the report's header.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, Money)> + '_ {
        self.0.iter().map(|(p, m)| (*p, *m))
    }
}

/// clap's parser for one `--price`.
pub(crate) fn parse_price(text: &str) -> Result<String, String> {
    Prices::default().set(text).map(|()| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_to_the_millionth() {
        let price = Money::parse("0.25").unwrap();
        assert_eq!(price.times(3).to_string(), "0.75");
        assert_eq!(Money::parse("0.1").unwrap().times(3).to_string(), "0.30");
        assert_eq!(Money::parse("0.000001").unwrap().times(7).to_string(), "0.000007");
        assert_eq!(Money::parse("12").unwrap().plus(price).to_string(), "12.25");
        assert_eq!(Money::parse("0.125").unwrap().to_json(), serde_json::json!(0.125));
    }

    #[test]
    fn bad_prices_are_refused_by_what_is_wrong() {
        for bad in ["", "-1", "0.1234567", "1e3", "abc", ".5", "5.", "2000000"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        let mut prices = Prices::default();
        assert!(prices.set("telecom4=1").unwrap_err().contains("not a product"));
        assert!(prices.set("telecom3").unwrap_err().contains("PRODUCT=PRICE"));
        prices.set("telecom3=0.25").unwrap();
        assert_eq!(prices.of("telecom3"), Some(Money(250_000)));
        assert_eq!(prices.of("idcard"), None);
    }
}
