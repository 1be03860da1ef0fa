//! A panic in the view worker (a sort or filter) is the view's failure,
//! said as such; a store job out at the same moment carries on and
//! reports its own result. (Its own test binary: the fault is asked for
//! through the environment, read once per process.)

mod common;

use common::*;

#[test]
fn a_view_worker_panic_is_the_views_failure_not_the_stores() {
    // Set before anything reads it; this binary runs this one test.
    std::env::set_var("GENHIST_FAULT", "view");
    let (_t, d, ids) = takes_dir(5);
    let mut dr = Driver::new(&d);
    dr.app.list.inline_limit = 0;
    let before = dr.rows();
    // A delete is out (held up by another genhist's lock) while the sort
    // fails.
    let lock = genhist::fsutil::DirLock::acquire_path(&d).unwrap();
    dr.keys("dy");
    assert_eq!(dr.app.busy.as_deref(), Some("deleting…"));
    dr.command("sort oldest");
    dr.wait("the sort's answer", |a| !a.list.view.pending);
    let m = dr.message();
    assert!(
        m.contains("sorting the list failed") && m.contains("injected fault"),
        "{m}"
    );
    assert_eq!(dr.rows(), before, "the rows shown stay");
    assert_eq!(
        dr.app.busy.as_deref(),
        Some("deleting…"),
        "the store's job is still out"
    );
    drop(lock);
    dr.wait("the delete", |a| a.busy.is_none());
    assert!(dr.message().contains("deleted 1 take"), "{}", dr.message());
    assert!(!index_ids(&d).contains(&ids[0]));
    // A search failing on the worker is the search's failure too.
    dr.keys("/t000");
    dr.wait("the search's answer", |a| !a.find.pending);
    assert!(
        dr.message().contains("searching failed"),
        "{}",
        dr.message()
    );
}
