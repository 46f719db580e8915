//! Time zones without a time zone database: a plugin sees no files, so --tz is a POSIX TZ rule
//! (`CET-1CEST,M3.5.0,M10.5.0/3`: the last line of every /usr/share/zoneinfo file), a fixed offset
//! (`+02:00`, `-05:30`, `UTC`), or one of the zone names below, which stand for their current rule.
//! A rule knows the zone's present daylight-saving dates, not its history: enough for a daily window.

const HOUR: i64 = 3600;

/// Zone names and their rules, as the zoneinfo files' footers say (tzdata 2024; the test suite
/// compares them with /usr/share/zoneinfo).
pub const ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC0"),
    ("Etc/UTC", "UTC0"),
    ("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"),
    ("Europe/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1"),
    ("Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"),
    ("Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Vienna", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Oslo", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Copenhagen", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Prague", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Budapest", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kyiv", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kiev", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Bucharest", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Istanbul", "<+03>-3"),
    ("Europe/Moscow", "MSK-3"),
    ("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Chicago", "CST6CDT,M3.2.0,M11.1.0"),
    ("America/Denver", "MST7MDT,M3.2.0,M11.1.0"),
    ("America/Phoenix", "MST7"),
    ("America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Anchorage", "AKST9AKDT,M3.2.0,M11.1.0"),
    ("America/Toronto", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Vancouver", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Halifax", "AST4ADT,M3.2.0,M11.1.0"),
    ("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0"),
    ("America/Mexico_City", "CST6"),
    ("America/Sao_Paulo", "<-03>3"),
    ("America/Argentina/Buenos_Aires", "<-03>3"),
    ("America/Bogota", "<-05>5"),
    ("America/Lima", "<-05>5"),
    ("America/Santiago", "<-04>4<-03>,M9.1.6/24,M4.1.6/24"),
    ("Pacific/Honolulu", "HST10"),
    ("Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"),
    ("Asia/Tokyo", "JST-9"),
    ("Asia/Seoul", "KST-9"),
    ("Asia/Shanghai", "CST-8"),
    ("Asia/Hong_Kong", "HKT-8"),
    ("Asia/Taipei", "CST-8"),
    ("Asia/Singapore", "<+08>-8"),
    ("Asia/Kolkata", "IST-5:30"),
    ("Asia/Dubai", "<+04>-4"),
    ("Asia/Jakarta", "WIB-7"),
    ("Asia/Bangkok", "<+07>-7"),
    ("Asia/Manila", "PST-8"),
    ("Asia/Karachi", "PKT-5"),
    ("Asia/Tehran", "<+0330>-3:30"),
    ("Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"),
    ("Asia/Kathmandu", "<+0545>-5:45"),
    ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Melbourne", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Brisbane", "AEST-10"),
    ("Australia/Perth", "AWST-8"),
    ("Australia/Adelaide", "ACST-9:30ACDT,M10.1.0,M4.1.0/3"),
    ("Africa/Johannesburg", "SAST-2"),
    ("Africa/Cairo", "EET-2EEST,M4.5.5/0,M10.5.4/24"),
    ("Africa/Lagos", "WAT-1"),
    ("Africa/Nairobi", "EAT-3"),
];

/// A transition date: Mm.w.d (day d of week w of month m, 5 = last), Jn (1-365, no Feb 29) or n
/// (0-365), at `time` seconds of local time.
#[derive(Clone, Copy)]
enum Day {
    Month(i64, i64, i64),
    Julian(i64),
    Zero(i64),
}

#[derive(Clone, Copy)]
struct Rule {
    day: Day,
    time: i64,
}

/// Offsets in seconds east of UTC; `dst` with its start and end rules.
#[derive(Clone, Copy)]
pub struct Zone {
    std: i64,
    dst: Option<(i64, Rule, Rule)>,
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date (year, month, day) of a day number (the inverse of days_from_civil).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

fn year_of(days: i64) -> i64 {
    civil_from_days(days).0
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Rule {
    /// The transition in year `y`, in seconds since the epoch of local time.
    fn local_seconds(&self, y: i64) -> i64 {
        let day = match self.day {
            Day::Month(m, w, d) => {
                let first = days_from_civil(y, m, 1);
                let weekday = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
                let mut day = first + (d - weekday).rem_euclid(7) + 7 * (w - 1);
                while day >= first + month_days(y, m) {
                    day -= 7;
                }
                day
            }
            Day::Julian(n) => days_from_civil(y, 1, 1) + n - 1 + if leap(y) && n >= 60 { 1 } else { 0 },
            Day::Zero(n) => days_from_civil(y, 1, 1) + n,
        };
        day * 86400 + self.time
    }
}

impl Zone {
    /// Seconds east of UTC at `utc` (seconds since the epoch).
    pub fn offset(&self, utc: i64) -> i64 {
        let (dst, start, end) = match self.dst {
            None => return self.std,
            Some(d) => d,
        };
        let y = year_of((utc + self.std).div_euclid(86400));
        let on = start.local_seconds(y) - self.std;
        let off = end.local_seconds(y) - dst;
        let summer = if on < off { utc >= on && utc < off } else { utc >= on || utc < off };
        if summer {
            dst
        } else {
            self.std
        }
    }
}

struct Cursor<'a> {
    t: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.t.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn number(&mut self) -> Option<i64> {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        std::str::from_utf8(&self.t[start..self.i]).ok()?.parse().ok()
    }
    /// A zone abbreviation: 3+ letters, or <anything but '>'>.
    fn name(&mut self) -> bool {
        if self.eat(b'<') {
            while let Some(c) = self.peek() {
                self.i += 1;
                if c == b'>' {
                    return true;
                }
            }
            return false;
        }
        let start = self.i;
        while matches!(self.peek(), Some(b'A'..=b'Z' | b'a'..=b'z')) {
            self.i += 1;
        }
        self.i - start >= 3
    }
    /// [+-]hh[:mm[:ss]] in seconds; hours up to 167 (POSIX's limit for rule times).
    fn clock(&mut self) -> Option<i64> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let h = self.number()?;
        let mut s = h * HOUR;
        if self.eat(b':') {
            s += self.number()?.min(59) * 60;
            if self.eat(b':') {
                s += self.number()?.min(59);
            }
        }
        if h > 167 {
            return None;
        }
        Some(sign * s)
    }
    fn rule(&mut self) -> Option<Rule> {
        let day = if self.eat(b'M') {
            let m = self.number()?;
            if !self.eat(b'.') {
                return None;
            }
            let w = self.number()?;
            if !self.eat(b'.') {
                return None;
            }
            let d = self.number()?;
            if !(1..=12).contains(&m) || !(1..=5).contains(&w) || !(0..=6).contains(&d) {
                return None;
            }
            Day::Month(m, w, d)
        } else if self.eat(b'J') {
            let n = self.number()?;
            if !(1..=365).contains(&n) {
                return None;
            }
            Day::Julian(n)
        } else {
            let n = self.number()?;
            if n > 365 {
                return None;
            }
            Day::Zero(n)
        };
        let time = if self.eat(b'/') { self.clock()? } else { 2 * HOUR };
        Some(Rule { day, time })
    }
}

fn posix(text: &str) -> Option<Zone> {
    let mut c = Cursor { t: text.as_bytes(), i: 0 };
    if !c.name() {
        return None;
    }
    // POSIX offsets are west of UTC: EST5 is UTC-5. Real ones are within a day.
    let std = -c.clock()?;
    if std.abs() > 25 * HOUR {
        return None;
    }
    if c.peek().is_none() {
        return Some(Zone { std, dst: None });
    }
    if !c.name() {
        return None;
    }
    let dst = if matches!(c.peek(), Some(b'+' | b'-' | b'0'..=b'9')) { -c.clock()? } else { std + HOUR };
    if dst.abs() > 25 * HOUR {
        return None;
    }
    let (start, end) = if c.eat(b',') {
        let start = c.rule()?;
        if !c.eat(b',') {
            return None;
        }
        (start, c.rule()?)
    } else {
        // POSIX's default, the US rule.
        (Rule { day: Day::Month(3, 2, 0), time: 2 * HOUR }, Rule { day: Day::Month(11, 1, 0), time: 2 * HOUR })
    };
    if c.peek().is_some() {
        return None;
    }
    Some(Zone { std, dst: Some((dst, start, end)) })
}

/// `+02:00`, `-05:30`, `+3`: a fixed offset east of UTC (ISO 8601 sign, not POSIX's).
fn fixed(text: &str) -> Option<Zone> {
    if !text.starts_with('+') && !text.starts_with('-') {
        return None;
    }
    let mut c = Cursor { t: text.as_bytes(), i: 0 };
    let off = c.clock()?;
    if c.peek().is_some() || off.abs() > 14 * HOUR {
        return None;
    }
    Some(Zone { std: off, dst: None })
}

/// The zone --tz names, or why it cannot be used.
pub fn zone(text: &str) -> Result<Zone, String> {
    let t = text.trim();
    if t.is_empty() || t == "Z" || t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") {
        return Ok(Zone { std: 0, dst: None });
    }
    if let Some((_, rule)) = ZONES.iter().find(|(name, _)| *name == t) {
        return posix(rule).ok_or_else(|| format!("tz: the rule for {} does not parse", t));
    }
    if let Some(z) = fixed(t) {
        return Ok(z);
    }
    if let Some(z) = posix(t) {
        return Ok(z);
    }
    Err(format!(
        "tz: {:?} is neither a zone chaos knows, nor an offset such as +02:00, nor a POSIX TZ rule; a plugin has no time zone database: give the rule, the last line of /usr/share/zoneinfo/{} (e.g. CET-1CEST,M3.5.0,M10.5.0/3)",
        t, t
    ))
}
