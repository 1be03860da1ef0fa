//! Where things go on the screen, computed the same way by the drawing and
//! by `App` (which keeps the selection visible and pages by the rows shown).

use ratatui::layout::{Constraint, Layout, Rect};

pub(crate) const MIN_WIDTH: u16 = 40;
pub(crate) const MIN_HEIGHT: u16 = 10;

/// Below this height (of list and panel together) a panel under the list
/// is left out.
const PANEL_BELOW_MIN: u16 = 16;

/// The screen's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Areas {
    /// The list, border included.
    pub list: Rect,
    /// The selected take's panel, border included.
    pub panel: Rect,
    /// The status line and the bar under it.
    pub status: Rect,
    pub bar: Rect,
    /// The panel is beside the list (else below it).
    pub wide: bool,
}

/// The parts of a screen of `size`; `None` when it is too small to use.
pub(crate) fn areas(size: Rect) -> Option<Areas> {
    if size.width < MIN_WIDTH || size.height < MIN_HEIGHT {
        return None;
    }
    let rows = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .split(size);
    let wide = size.width >= 110;
    let (list, panel) = if wide {
        let b = Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
            .split(rows[0]);
        (b[0], b[1])
    } else if rows[0].height < PANEL_BELOW_MIN {
        // Too low for both: the list alone (the panel would show nothing).
        (
            rows[0],
            Rect::new(rows[0].x, rows[0].bottom(), rows[0].width, 0),
        )
    } else {
        let b = Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
            .split(rows[0]);
        (b[0], b[1])
    };
    Some(Areas {
        list,
        panel,
        status: rows[1],
        bar: rows[2],
        wide,
    })
}

/// How many takes the list shows at once (inside the border, under the
/// column headers).
pub(crate) fn list_rows(size: Rect) -> usize {
    areas(size).map_or(1, |a| (a.list.height.saturating_sub(3) as usize).max(1))
}
