//! chaos: runs at random times, for resilience testing ("controlled randomness").
//!  - `--mean 5m`: random arrivals (a Poisson process): each gap is `min-gap` plus an exponential
//!    draw with the rest of the mean, capped at `max-gap`.
//!  - `--every 1m --probability 0.3`: instead, each slot of a regular grid runs with that probability
//!    (`min-gap` skips slots too close to the last run, `max-gap` forces one before the gap gets longer).
//!  - `--window 09:00-17:00 --tz Europe/Paris`: only inside a daily window; time outside does not count.
//!  - `--seed N`: the same seed gives the same start times (counted from the job's start); without
//!    it the generator is seeded from rpr's `random` host function.
//!  - `--show-next N`: each decision's message lists the next N start times.
//! Start times that fall while a run is still going are skipped. The generator and the plan are kept
//! by rpr (decision keep / state kept), so a rebuilt instance goes on with the same sequence.
//!
//! The ABI glue is the Rust plugin kit's own file (templates/plugin/rust/rpr.rs), shared with
//! `rpr plugins new --lang rust` and plugins-src/rust-example.
#[path = "../../templates/plugin/rust/rpr.rs"]
mod rpr;
mod sched;
mod tz;

use sched::{iso, parse_window, Rng, Window};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Clone, Copy)]
struct Settings {
    mean: f64,
    min_gap: f64,
    max_gap: f64,
    every: f64,
    probability: f64,
    window: Option<Window>,
    seed: Option<u64>,
    show_next: usize,
}

static SETTINGS: Mutex<Option<Settings>> = Mutex::new(None);
static WARNED: AtomicBool = AtomicBool::new(false);
/// Version of what is kept: bump when its shape changes.
const KEPT_VERSION: f64 = 1.0;
const MAX_SHOW: f64 = 10.0;

#[no_mangle]
pub extern "C" fn describe() -> i32 {
    rpr::output(include_str!(env!("RPR_DESCRIBE_JSON")));
    0
}

fn settings(config: &str) -> Result<Settings, String> {
    let num = |k: &str| rpr::num(config, k).unwrap_or(0.0);
    let s = Settings {
        mean: num("mean"),
        min_gap: num("min-gap"),
        max_gap: num("max-gap"),
        every: num("every"),
        probability: num("probability"),
        window: None,
        seed: rpr::num(config, "seed").map(|n| n as i64 as u64),
        show_next: num("show-next") as usize,
    };
    if s.min_gap < 0.0 || s.max_gap < 0.0 || s.mean < 0.0 || s.every < 0.0 {
        return Err("durations must not be negative".into());
    }
    if !(0.0..=1.0).contains(&s.probability) {
        return Err(format!("probability must be between 0 and 1, got {}", s.probability));
    }
    if s.probability > 0.0 {
        if s.every <= 0.0 {
            return Err("probability needs every: the base slot each run may fall on (e.g. --every 1m --probability 0.3)".into());
        }
        if s.mean > 0.0 {
            return Err("give either mean (random arrivals) or every with probability (random slots), not both".into());
        }
    } else if s.mean <= 0.0 {
        return Err("give mean (random arrivals, e.g. --mean 5m) or every with probability (random slots, e.g. --every 1m --probability 0.3)".into());
    } else if s.mean <= s.min_gap {
        return Err("mean must be longer than min-gap".into());
    }
    if s.max_gap > 0.0 && s.max_gap <= s.min_gap {
        return Err("max-gap must be longer than min-gap (or 0: no cap)".into());
    }
    if num("show-next") < 0.0 || num("show-next") > MAX_SHOW {
        return Err(format!("show-next must be 0 to {}", MAX_SHOW));
    }
    let window = rpr::string(config, "window").unwrap_or_default();
    let zone = tz::zone(&rpr::string(config, "tz").unwrap_or_default())?;
    let window = if window.trim().is_empty() {
        None
    } else {
        let (start, end) = parse_window(&window)?;
        Some(Window { start, end, zone })
    };
    Ok(Settings { window, ..s })
}

#[no_mangle]
pub extern "C" fn init() -> i32 {
    match settings(&rpr::input()) {
        Ok(s) => {
            *SETTINGS.lock().unwrap() = Some(s);
            rpr::output(r#"{"ok":true}"#);
        }
        Err(e) => rpr::output(&format!(r#"{{"ok":false,"error":{}}}"#, rpr::quote(&e))),
    }
    0
}

/// The generator and the last start planned: all chaos needs to go on with its sequence.
#[derive(Clone, Copy)]
struct Plan {
    rng: Rng,
    planned: Option<i64>,
    slot: i64,
}

impl Plan {
    fn fresh(s: &Settings, now: f64) -> Plan {
        let rng = match s.seed {
            Some(seed) => Rng::seeded(seed),
            None => match (rpr::random(), rpr::random()) {
                (Some(a), Some(b)) => Rng::seeded(((a * 9_007_199_254_740_992.0) as u64) ^ (((b * 9_007_199_254_740_992.0) as u64) << 11)),
                _ => {
                    if !WARNED.swap(true, Ordering::Relaxed) {
                        rpr::log("chaos: the random host function is not granted; seeding from the clock (give --seed for a reproducible sequence)");
                    }
                    Rng::seeded(now as u64)
                }
            },
        };
        Plan { rng, planned: None, slot: -1 }
    }

    fn from_kept(kept: &str) -> Option<Plan> {
        if rpr::num(kept, "v") != Some(KEPT_VERSION) {
            return None;
        }
        let hex = |k: &str| u64::from_str_radix(&rpr::string(kept, k)?, 16).ok();
        Some(Plan {
            rng: Rng { s0: hex("s0")?, s1: hex("s1")? },
            planned: rpr::num(kept, "planned").map(|t| t as i64),
            slot: rpr::num(kept, "slot")? as i64,
        })
    }

    fn kept(&self) -> String {
        let planned = self.planned.map_or("null".to_string(), |t| t.to_string());
        format!(r#"{{"v":1,"s0":"{:016x}","s1":"{:016x}","planned":{},"slot":{}}}"#, self.rng.s0, self.rng.s1, planned, self.slot)
    }

    /// The next start after the last one planned (the first one counts from the job's start).
    fn draw(&mut self, s: &Settings, started: i64) -> i64 {
        let t = if s.probability > 0.0 { self.slot_draw(s, started) } else { self.poisson_draw(s, started) };
        self.planned = Some(t);
        t
    }

    fn poisson_draw(&mut self, s: &Settings, started: i64) -> i64 {
        let from = self.planned.unwrap_or(started);
        let u = self.rng.next();
        let mut gap = s.min_gap + -(1.0 - u).ln() * (s.mean - s.min_gap);
        if s.max_gap > 0.0 && gap > s.max_gap {
            gap = s.max_gap;
        }
        let gap = gap.round() as i64;
        match &s.window {
            Some(w) => w.advance(from, gap),
            None => from + gap,
        }
    }

    fn slot_draw(&mut self, s: &Settings, started: i64) -> i64 {
        let every = s.every as i64;
        // Bounded (a call has a time limit): with a tiny probability, or a short window, the
        // 100,000th slot runs whatever it drew.
        for _ in 0..100_000 {
            self.slot += 1;
            let t = started + self.slot * every;
            let u = self.rng.next();
            if s.window.map_or(false, |w| !w.inside(t)) {
                continue;
            }
            let since = self.planned.map(|last| t - last);
            let far_enough = since.map_or(true, |g| g as f64 >= s.min_gap);
            let overdue = s.max_gap > 0.0 && since.map_or(false, |g| (g + every) as f64 > s.max_gap);
            if (u < s.probability && far_enough) || overdue {
                return t;
            }
        }
        started + self.slot * every
    }
}

#[no_mangle]
pub extern "C" fn next() -> i32 {
    let s = match *SETTINGS.lock().unwrap() {
        Some(s) => s,
        None => return rpr::fail("next called before init"),
    };
    let state = rpr::input();
    let now = rpr::num(&state, "now_ms").unwrap_or(0.0);
    let started = rpr::num(&state, "started_ms").unwrap_or(now) as i64;
    let kept = rpr::raw(&state, "kept").and_then(|k| Plan::from_kept(&k));
    let mut plan = kept.unwrap_or_else(|| Plan::fresh(&s, now));
    let mut at = plan.draw(&s, started);
    let mut skipped = 0;
    while (at as f64) < now {
        skipped += 1;
        at = plan.draw(&s, started);
    }
    let mut message = String::new();
    if s.show_next > 0 {
        let mut ahead = plan;
        let mut times = vec![iso(at)];
        while times.len() < s.show_next {
            times.push(iso(ahead.draw(&s, started)));
        }
        message = format!("chaos: next runs at {}", times.join(", "));
        if skipped > 0 {
            message.push_str(&format!(" ({} skipped: due while the last run was going)", skipped));
        }
    }
    let message = if message.is_empty() { String::new() } else { format!(r#","message":{}"#, rpr::quote(&message)) };
    rpr::output(&format!(r#"{{"action":"run","delay_ms":{}{},"keep":{}}}"#, (at as f64 - now).max(0.0), message, plan.kept()));
    0
}
