//! One look at the database per unary call: the cached reads of a call
//! all use the generation its first cached read found.
//!
//! A call that only reads then answers from one instant, its first look, as
//! if it had read in one transaction; a change committed elsewhere after
//! that instant is concurrent with the call, and the next call sees it.
//! A call that writes must see its own write: taking the writer connection
//! ([`super::Store::writer`]) ends the call's instant, and its next cached
//! read looks again.
//!
//! The view lives in a task-local set only around unary calls (see
//! [`within_one_look`]); everywhere else, every cached read looks afresh.
//! A stream, which may run for hours, never has one.
use std::cell::Cell;

tokio::task_local! {
    /// The watch (by its id) and the generation it reported to this call.
    static LOOK: Cell<Option<(u64, u64)>>;
}

/// Runs `call` with one look at the database for all its cached reads.
/// Inside a call that already has one, it keeps that one: the REST
/// preflight and the call it admits are one call.
pub async fn within_one_look<F: Future>(call: F) -> F::Output {
    if LOOK.try_with(|_| ()).is_ok() {
        call.await
    } else {
        LOOK.scope(Cell::new(None), call).await
    }
}

/// The generation of watch `watch_id` for this call: the one looked up
/// earlier in the call, else the one `look` returns now.
pub(crate) fn generation(watch_id: u64, look: impl FnOnce() -> u64) -> u64 {
    let earlier = LOOK.try_with(Cell::get).ok().flatten();
    match earlier {
        Some((id, generation)) if id == watch_id => generation,
        _ => {
            let generation = look();
            // Outside a unary call there is nothing to remember it in.
            let _ = LOOK.try_with(|cell| cell.set(Some((watch_id, generation))));
            generation
        }
    }
}

/// Ends this call's instant: its next cached read looks again.
pub(crate) fn forget() {
    let _ = LOOK.try_with(|cell| cell.set(None));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_look_per_call_until_it_writes() {
        let looks = AtomicU64::new(0);
        let look = || looks.fetch_add(1, Ordering::SeqCst) + 1;
        within_one_look(async {
            assert_eq!(generation(7, look), 1);
            assert_eq!(generation(7, look), 1, "the call's instant");
            // Another watch (another store) gets its own look.
            assert_eq!(generation(8, look), 2);
            forget();
            assert_eq!(generation(7, look), 3, "a write ends the instant");
            within_one_look(async {
                assert_eq!(generation(7, look), 3, "nested: still one call");
            })
            .await;
        })
        .await;
        assert_eq!(looks.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn outside_a_call_every_read_looks() {
        let looks = AtomicU64::new(0);
        let look = || looks.fetch_add(1, Ordering::SeqCst) + 1;
        assert_eq!(generation(7, look), 1);
        assert_eq!(generation(7, look), 2);
        forget();
    }
}
