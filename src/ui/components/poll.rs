//! Live pages without a socket: bump a counter every few seconds while something is still
//! moving, so the resources that depend on it fetch again.

use leptos::prelude::*;

/// Increments `tick` every `seconds` while `active` is true (in the browser only).
pub fn poll_while(active: RwSignal<bool>, tick: RwSignal<u32>, seconds: u64) {
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                if active.get_untracked() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(seconds),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (active, tick, seconds);
}
