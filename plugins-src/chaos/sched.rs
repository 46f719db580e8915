//! chaos's arithmetic: the random source, the daily window and the arrival times. Pure functions of
//! the settings and a generator state, so that the same seed gives the same start times and a
//! rebuilt instance, handed the kept state, goes on with the same sequence.
use crate::tz::{civil_from_days, Zone};

pub const DAY_MS: i64 = 86_400_000;

/// xorshift128+, seeded through splitmix64: fast, small, and its whole state fits in two numbers
/// rpr keeps for the plugin.
#[derive(Clone, Copy)]
pub struct Rng {
    pub s0: u64,
    pub s1: u64,
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        let mut x = seed;
        let s0 = splitmix(&mut x);
        let s1 = splitmix(&mut x);
        Rng { s0, s1: if s0 == 0 && s1 == 0 { 1 } else { s1 } }
    }

    /// Uniform in [0, 1).
    pub fn next(&mut self) -> f64 {
        let mut x = self.s0;
        let y = self.s1;
        self.s0 = y;
        x ^= x << 23;
        x ^= x >> 17;
        x ^= y ^ (y >> 26);
        self.s1 = x;
        (x.wrapping_add(y) >> 11) as f64 / 9_007_199_254_740_992.0
    }
}

/// A daily window of local time, [start, end) in minutes of the day; end <= start crosses midnight.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub zone: Zone,
}

/// "09:00-17:00" as minutes of the day.
pub fn parse_window(text: &str) -> Result<(i64, i64), String> {
    let bad = || format!("window: {:?} is not HH:MM-HH:MM (e.g. 09:00-17:00, or 22:00-06:00 across midnight)", text);
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let minutes = |s: &str| -> Option<i64> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return None;
        }
        Some(h * 60 + m)
    };
    let (start, end) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
    if start == 24 * 60 || start == end || (end == 24 * 60 && start == 0) {
        return Err(format!("window: {:?} is empty or the whole day; leave --window out to run at any time", text));
    }
    Ok((start, end % (24 * 60)))
}

impl Window {
    fn local(&self, utc: i64) -> i64 {
        utc + self.zone.offset(utc.div_euclid(1000)) * 1000
    }
    /// The UTC instant of a local time (the usual two passes; a time that does not exist in a
    /// spring-forward gap lands an hour off, which only moves a window edge that day).
    fn utc(&self, local: i64) -> i64 {
        let guess = local - self.zone.offset(local.div_euclid(1000)) * 1000;
        local - self.zone.offset(guess.div_euclid(1000)) * 1000
    }
    fn minute(&self, utc: i64) -> i64 {
        self.local(utc).rem_euclid(DAY_MS) / 60_000
    }
    pub fn inside(&self, utc: i64) -> bool {
        let m = self.minute(utc);
        if self.start < self.end {
            m >= self.start && m < self.end
        } else {
            m >= self.start || m < self.end
        }
    }
    /// Local midnight of the day of `utc`, in local ms.
    fn midnight(&self, utc: i64) -> i64 {
        self.local(utc).div_euclid(DAY_MS) * DAY_MS
    }
    /// Where the window `utc` is in ends (utc inside).
    pub fn end_after(&self, utc: i64) -> i64 {
        let day = self.midnight(utc);
        // A window across midnight entered in the evening ends tomorrow.
        let tomorrow = self.start > self.end && self.minute(utc) >= self.start;
        let end = day + self.end * 60_000 + if tomorrow { DAY_MS } else { 0 };
        self.utc(end).max(utc + 1)
    }
    /// Where the next window starts (utc outside).
    pub fn start_after(&self, utc: i64) -> i64 {
        let day = self.midnight(utc);
        let today = day + self.start * 60_000;
        let start = if self.local(utc) < today { today } else { today + DAY_MS };
        self.utc(start).max(utc + 1)
    }
    /// `from` moved on by `active` ms of window time: time outside the window does not count.
    pub fn advance(&self, from: i64, active: i64) -> i64 {
        let mut t = from;
        let mut left = active;
        // Each pass crosses one window edge; a year of edges is far more than any gap needs.
        for _ in 0..1000 {
            if !self.inside(t) {
                t = self.start_after(t);
                continue;
            }
            let end = self.end_after(t);
            if t + left < end {
                return t + left;
            }
            left -= end - t;
            t = end;
        }
        t + left
    }
}

/// Ms since the epoch as an ISO date and time: 2026-01-05T09:12:03.412Z.
pub fn iso(ms: i64) -> String {
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
}
