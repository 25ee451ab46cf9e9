//! A snapshot of the chaos settings and per-mode statistics, printed by `chaos stats` as text or JSON.

use core::fmt::{self, Write};

use sis_observe::escape::write_json_str;

use crate::mode::Mode;

/// Checks (a point asked while its mode was active) and injections of one mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModeStats {
    pub checks: u64,
    pub injections: u64,
}

/// What `chaos stats` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    pub mode: Mode,
    pub rate_percent: u8,
    pub seed: u64,
    pub delay_us: u32,
    /// Indexed by [`Mode::index`]; `none` never checks, so its entry stays zero.
    pub per_mode: [ModeStats; Mode::ALL.len()],
    /// Checks skipped because the generator's lock was held.
    pub contended: u64,
}

impl Stats {
    pub fn for_mode(&self, mode: Mode) -> ModeStats {
        self.per_mode[mode.index()]
    }

    /// `key=value` lines: the settings, then one line per mode (`none` left out):
    ///
    /// ```text
    /// mode=disk_full rate=30 seed=42 delay_us=1000 contended=0
    /// disk_full checks=12 injections=4
    /// disk_fail checks=0 injections=0
    /// …
    /// ```
    pub fn write_text<W: Write + ?Sized>(&self, sink: &mut W) -> fmt::Result {
        writeln!(
            sink,
            "mode={} rate={} seed={} delay_us={} contended={}",
            self.mode, self.rate_percent, self.seed, self.delay_us, self.contended
        )?;
        for mode in &Mode::ALL[1..] {
            let stats = self.for_mode(*mode);
            writeln!(
                sink,
                "{mode} checks={} injections={}",
                stats.checks, stats.injections
            )?;
        }
        Ok(())
    }

    /// One JSON object on one line:
    /// `{"mode":"disk_full","rate":30,"seed":42,"delay_us":1000,"contended":0,"modes":{"disk_full":{"checks":12,"injections":4},…}}`
    pub fn write_json<W: Write + ?Sized>(&self, sink: &mut W) -> fmt::Result {
        sink.write_str("{\"mode\":")?;
        write_json_str(sink, self.mode.name())?;
        write!(
            sink,
            ",\"rate\":{},\"seed\":{},\"delay_us\":{},\"contended\":{},\"modes\":{{",
            self.rate_percent, self.seed, self.delay_us, self.contended
        )?;
        for (index, mode) in Mode::ALL[1..].iter().enumerate() {
            if index > 0 {
                sink.write_char(',')?;
            }
            let stats = self.for_mode(*mode);
            write_json_str(sink, mode.name())?;
            write!(
                sink,
                ":{{\"checks\":{},\"injections\":{}}}",
                stats.checks, stats.injections
            )?;
        }
        sink.write_str("}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Chaos, Point};
    use std::string::String;

    fn sample() -> Stats {
        let chaos = Chaos::new();
        chaos.set_seed(42);
        chaos.set_rate(100).unwrap();
        chaos.set_mode(Mode::DiskFull);
        for _ in 0..4 {
            chaos.should_inject(Point::BlockWrite);
        }
        chaos.stats()
    }

    #[test]
    fn text_lists_settings_then_every_mode() {
        let mut text = String::new();
        sample().write_text(&mut text).unwrap();
        let lines: std::vec::Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "mode=disk_full rate=100 seed=42 delay_us=1000 contended=0"
        );
        assert_eq!(lines[1], "disk_full checks=4 injections=4");
        assert_eq!(lines[2], "disk_fail checks=0 injections=0");
        assert_eq!(lines.len(), 7);
        assert!(!text.contains("none checks"));
    }

    #[test]
    fn json_parses_and_carries_the_counts() {
        let mut text = String::new();
        sample().write_json(&mut text).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["mode"], "disk_full");
        assert_eq!(parsed["seed"], 42);
        assert_eq!(parsed["modes"]["disk_full"]["injections"], 4);
        assert_eq!(parsed["modes"].as_object().unwrap().len(), 6);
    }
}
