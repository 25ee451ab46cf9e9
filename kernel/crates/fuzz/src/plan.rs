//! The `fuzz` program's argument text: which calls of which seed to make.
//!
//! Two forms, both well under ARG_MAX (1,024 bytes) for what the CLI sends:
//! - `seed=S calls=N [start=K] [ms=M]`: calls K, K+1, ... K+N-1 (a run);
//!   with `ms=M` the run also stops once M milliseconds have passed
//!   (`sis fuzz --time`), and `calls=0` means no call limit then;
//! - `seed=S list=A-B,C,D-E`: exactly those indices (inclusive ranges), in
//!   that order (replay and delta debugging: any subset of a run).
//!
//! Numbers are decimal or `0x` hexadecimal. Parsing checks the whole text
//! before the first call, so a typo never runs half a plan.

/// Why an argument text is not a plan; the program prints it and exits 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    MissingSeed,
    BadNumber,
    UnknownKey,
    /// Neither `calls=` nor `list=`, or both.
    NoSelection,
    /// A range whose end is before its start, or an empty list.
    BadRange,
    /// `start=` or `ms=` given with `list=`.
    MixedForms,
}

impl PlanError {
    pub const fn describe(self) -> &'static str {
        match self {
            PlanError::MissingSeed => "missing seed=S",
            PlanError::BadNumber => "a value is not a decimal or 0x-hex u64",
            PlanError::UnknownKey => "unknown key (expected seed=, calls=, start=, ms=, list=)",
            PlanError::NoSelection => "give exactly one of calls=N or list=A-B,C",
            PlanError::BadRange => "list= needs ranges A-B with A <= B, comma separated",
            PlanError::MixedForms => "start= and ms= go with calls=, not with list=",
        }
    }
}

/// Which indices to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection<'a> {
    /// `count` calls from `start`; `count` 0 with a time limit means unbounded.
    Run { start: u64, count: u64 },
    /// The checked text of `list=`; [`ranges`] walks it.
    List(&'a str),
}

/// A parsed argument text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan<'a> {
    pub seed: u64,
    pub selection: Selection<'a>,
    /// Stop after this many milliseconds of uptime (only with `calls=`).
    pub time_limit_ms: Option<u64>,
}

/// A decimal or `0x`-hex u64.
pub fn parse_number(text: &str) -> Result<u64, PlanError> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    // from_str_radix accepts a leading '+'; a plan never has one.
    if text.starts_with('+') {
        return Err(PlanError::BadNumber);
    }
    parsed.map_err(|_| PlanError::BadNumber)
}

/// The inclusive ranges of a `list=` value, in order.
pub fn ranges(list: &str) -> impl Iterator<Item = Result<(u64, u64), PlanError>> + '_ {
    list.split(',').map(|item| {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (parse_number(a)?, parse_number(b)?),
            None => {
                let one = parse_number(item)?;
                (one, one)
            }
        };
        if first > last {
            return Err(PlanError::BadRange);
        }
        Ok((first, last))
    })
}

/// Parses and checks an argument text.
pub fn parse(text: &str) -> Result<Plan<'_>, PlanError> {
    let (mut seed, mut calls, mut start, mut ms, mut list) = (None, None, None, None, None);
    for word in text.split_ascii_whitespace() {
        let (key, value) = word.split_once('=').ok_or(PlanError::UnknownKey)?;
        match key {
            "seed" => seed = Some(parse_number(value)?),
            "calls" => calls = Some(parse_number(value)?),
            "start" => start = Some(parse_number(value)?),
            "ms" => ms = Some(parse_number(value)?),
            "list" => {
                if value.is_empty() {
                    return Err(PlanError::BadRange);
                }
                for range in ranges(value) {
                    range?;
                }
                list = Some(value);
            }
            _ => return Err(PlanError::UnknownKey),
        }
    }
    let seed = seed.ok_or(PlanError::MissingSeed)?;
    let selection = match (calls, list) {
        (Some(count), None) => {
            if count == 0 && ms.is_none() {
                return Err(PlanError::NoSelection);
            }
            Selection::Run { start: start.unwrap_or(0), count }
        }
        (None, Some(list)) => {
            if start.is_some() || ms.is_some() {
                return Err(PlanError::MixedForms);
            }
            Selection::List(list)
        }
        _ => return Err(PlanError::NoSelection),
    };
    Ok(Plan { seed, selection, time_limit_ms: ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_and_its_defaults() {
        assert_eq!(
            parse("seed=42 calls=100000"),
            Ok(Plan { seed: 42, selection: Selection::Run { start: 0, count: 100_000 }, time_limit_ms: None })
        );
        assert_eq!(
            parse("  seed=0x2a  calls=0 start=7 ms=60000 "),
            Ok(Plan { seed: 42, selection: Selection::Run { start: 7, count: 0 }, time_limit_ms: Some(60_000) })
        );
    }

    #[test]
    fn a_list_walks_its_ranges_in_order() {
        let plan = parse("seed=1 list=5-7,2,0x10-0x11").unwrap();
        let Selection::List(list) = plan.selection else { panic!("not a list") };
        let walked: Vec<(u64, u64)> = ranges(list).map(Result::unwrap).collect();
        assert_eq!(walked, [(5, 7), (2, 2), (16, 17)]);
    }

    #[test]
    fn bad_texts_say_why() {
        assert_eq!(parse(""), Err(PlanError::MissingSeed));
        assert_eq!(parse("calls=5"), Err(PlanError::MissingSeed));
        assert_eq!(parse("seed=1"), Err(PlanError::NoSelection));
        assert_eq!(parse("seed=1 calls=0"), Err(PlanError::NoSelection));
        assert_eq!(parse("seed=1 calls=5 list=1"), Err(PlanError::NoSelection));
        assert_eq!(parse("seed=x calls=5"), Err(PlanError::BadNumber));
        assert_eq!(parse("seed=+1 calls=5"), Err(PlanError::BadNumber));
        assert_eq!(parse("seed=18446744073709551616 calls=5"), Err(PlanError::BadNumber));
        assert_eq!(parse("seed=1 calls"), Err(PlanError::UnknownKey));
        assert_eq!(parse("seed=1 speed=5"), Err(PlanError::UnknownKey));
        assert_eq!(parse("seed=1 list=7-5"), Err(PlanError::BadRange));
        assert_eq!(parse("seed=1 list="), Err(PlanError::BadRange));
        assert_eq!(parse("seed=1 list=1,,2"), Err(PlanError::BadNumber));
        assert_eq!(parse("seed=1 list=1 ms=5"), Err(PlanError::MixedForms));
    }
}
