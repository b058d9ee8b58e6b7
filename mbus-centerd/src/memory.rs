//! The allocator's settings for a small appliance.

/// Allocations of 1 MiB or more (a login's password hash takes 7 MiB) get pages of their own
/// that go back to the system when freed. glibc otherwise raises that limit to the largest
/// block freed so far, after which such blocks come from its heaps and stay resident: a
/// daemon that served a few logins would hold tens of MiB it no longer uses. Smaller
/// blocks (a page or an API answer of a few hundred KiB) stay on the fast heap path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_large_blocks() {
    // SAFETY: `mallopt` only changes a setting of the C allocator; it is called once, at the
    // start of `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Other C libraries keep their own defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_blocks() {}
