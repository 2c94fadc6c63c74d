//! The few date formats supervisord prints, written out by hand. chrono's
//! `strftime` machinery (a format-string parser and a formatter for every
//! item) was about 20 KB of the binary for six fixed formats.

use std::fmt::Write as _;

use chrono::{Datelike, Timelike};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn month(t: &impl Datelike) -> &'static str {
    MONTHS[t.month0() as usize % 12]
}

fn weekday(t: &impl Datelike) -> &'static str {
    WEEKDAYS[t.weekday().num_days_from_monday() as usize % 7]
}

/// Milliseconds, truncated; above 999 only inside a leap second.
fn millis(t: &impl Timelike) -> u32 {
    (t.nanosecond() / 1_000_000).min(999)
}

/// `%Y-%m-%d %H:%M:%S,%3f ` (a log line's timestamp and its space),
/// milliseconds truncated as Supervisor does, appended to `out`.
pub fn log_stamp<T: Datelike + Timelike>(out: &mut String, t: &T) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} ",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        millis(t)
    );
}

/// `%b %e %H:%M:%S` (syslog's header: the day of the month space-padded).
pub fn syslog_stamp<T: Datelike + Timelike>(t: &T) -> String {
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        month(t),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `%b %d %I:%M %p`: when a process stopped, in its description.
pub fn stop_time<T: Datelike + Timelike>(t: &T) -> String {
    let (pm, hour) = t.hour12();
    format!(
        "{} {:02} {:02}:{:02} {}",
        month(t),
        t.day(),
        hour,
        t.minute(),
        if pm { "PM" } else { "AM" }
    )
}

/// `%a %b %e %H:%M:%S %Y`: C's `asctime`.
pub fn asctime<T: Datelike + Timelike>(t: &T) -> String {
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        weekday(t),
        month(t),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// `%a, %d %b %Y %H:%M:%S GMT`: an HTTP date (`t` in UTC).
pub fn http_date<T: Datelike + Timelike>(t: &T) -> String {
    let mut out = String::with_capacity(29);
    let _ = write!(
        out,
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        weekday(t),
        t.day(),
        month(t),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// chrono's own `strftime` is the reference each format replaces.
    #[test]
    fn each_format_reads_as_strftime_does() {
        let times = [
            (2026, 12, 4, 18, 5, 14, 549),
            (2026, 1, 1, 0, 0, 0, 0),
            (1970, 1, 1, 12, 0, 59, 999),
            (2031, 7, 9, 23, 59, 7, 3),
            (2000, 2, 29, 11, 30, 0, 500),
        ];
        for (y, mo, d, h, mi, s, ms) in times {
            let t = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_milli_opt(h, mi, s, ms)
                .unwrap();
            let mut stamp = String::new();
            log_stamp(&mut stamp, &t);
            assert_eq!(stamp, t.format("%Y-%m-%d %H:%M:%S,%3f ").to_string());
            assert_eq!(syslog_stamp(&t), t.format("%b %e %H:%M:%S").to_string());
            assert_eq!(stop_time(&t), t.format("%b %d %I:%M %p").to_string());
            assert_eq!(asctime(&t), t.format("%a %b %e %H:%M:%S %Y").to_string());
            assert_eq!(
                http_date(&t),
                t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
            );
        }
    }
}
