//! Resident memory of the process: VmRSS and VmHWM from `/proc/self/status`, `ru_maxrss` from
//! getrusage, resetting the high-water mark, and handing freed heap back to the kernel.

// getrusage and malloc_trim are C calls; both take plain values or a zeroed out-struct.
#![allow(unsafe_code)]

use std::fs;

/// Current resident set size in KiB (`VmRSS`), 0 when `/proc` is unavailable.
pub fn current_rss_kb() -> u64 {
    status_field("VmRSS:")
}

/// Peak resident set size in KiB since start or the last [`reset_peak_rss`] (`VmHWM`).
pub fn peak_rss_kb() -> u64 {
    status_field("VmHWM:")
}

/// The kernel's lifetime peak for this process in KiB (`getrusage(RUSAGE_SELF).ru_maxrss`);
/// unlike `VmHWM` it is never reset.
pub fn rusage_max_rss_kb() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF is a valid `who`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: getrusage returned 0, so it filled the struct (and zeroed was valid anyway).
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` value 5). Returns false when the
/// kernel refused, in which case [`peak_rss_kb`] keeps the lifetime peak.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Asks glibc to return freed heap pages to the kernel, so that RSS after dropping a phase's
/// buffers reflects what is still live. A no-op on other C libraries.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Parses a `Name:   1234 kB` line of `/proc/self/status`.
fn status_field(name: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| parse_status_field(&status, name))
        .unwrap_or(0)
}

fn parse_status_field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_parse_their_kilobyte_value() {
        let status = "Name:\tbench\nVmHWM:\t  123456 kB\nVmRSS:\t   2345 kB\n";
        assert_eq!(parse_status_field(status, "VmHWM:"), Some(123456));
        assert_eq!(parse_status_field(status, "VmRSS:"), Some(2345));
        assert_eq!(parse_status_field(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_reports_a_resident_size() {
        assert!(current_rss_kb() > 0);
        assert!(peak_rss_kb() >= current_rss_kb() / 2);
        assert!(rusage_max_rss_kb() > 0);
    }
}
