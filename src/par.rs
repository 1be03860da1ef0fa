//! Work over many takes split across two threads (the machine genhist is
//! measured on has two cores; a million takes is where it shows).

/// Below this many items one thread is quicker than starting another.
const MANY: usize = 50_000;

/// `f` of each item, in order; on two threads when there are many items.
/// A panic in either half is the caller's, as if it ran on one thread.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < MANY {
        return items.iter().map(&f).collect();
    }
    let (head, tail) = items.split_at(items.len() / 2);
    std::thread::scope(|s| {
        let t = s.spawn(|| tail.iter().map(&f).collect::<Vec<R>>());
        let mut out: Vec<R> = head.iter().map(&f).collect();
        out.extend(t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        out
    })
}

/// `f` over `items` in one piece, or in two halves on two threads when
/// there are many: each call is given where its piece starts.
pub(crate) fn halves<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    if items.len() < MANY {
        return vec![f(0, items)];
    }
    let mid = items.len() / 2;
    let (head, tail) = items.split_at(mid);
    std::thread::scope(|s| {
        let t = s.spawn(|| f(mid, tail));
        let first = f(0, head);
        vec![
            first,
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        ]
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_on_one_or_two_threads() {
        for n in [0, 1, 10, super::MANY - 1, super::MANY, 3 * super::MANY + 1] {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(&items, |x| x * 2);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
    }
}
