//! What flows through the browser: one [`Event`] enum, fed by the terminal,
//! a ticker and every worker through one channel, and the [`Effect`]s
//! `App::update` returns for the runner to carry out.

use crate::peaks::Peaks;
use crate::playback::{PlayerCmd, PlayerEvent};
use crate::store::reload::Delta;
use crate::store::repair::{RepairPlan, RepairReport};
use crate::store::trash::DeleteReport;
use crate::store::{FileState, GenerationHistory, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything the browser reacts to.
#[derive(Debug)]
pub enum Event {
    Key(crossterm::event::KeyEvent),
    Mouse(crossterm::event::MouseEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// Text pasted into the terminal.
    Paste(String),
    /// About ten times a second: messages fade, the playhead moves.
    Tick,
    /// Boxed: the store's results are large, events are small.
    Store(Box<StoreEvent>),
    Peaks(PeaksDone),
    Player(PlayerEvent),
    View(ViewDone),
    /// How an export (see [`Effect::Export`]) goes.
    Export(ExportEvent),
    /// The output devices (see [`Effect::ListDevices`]).
    Devices(Result<Vec<crate::playback::device::DeviceInfo>, String>),
    /// Takes measured (see [`Effect::Analyze`]).
    Analysis(AnalysisDone),
    /// A spectrogram (see [`Effect::Spectrum`]).
    Spectrum(SpectrumDone),
    /// Paths completing the word at the end of the `:` bar's `line` (see
    /// [`Effect::CompletePath`]).
    PathsFound {
        line: String,
        head: String,
        candidates: Vec<String>,
    },
}

/// A take for the analysis worker: the entry and whether its audio path
/// passed the checks (32 bytes: a full load queues one per take).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeJob {
    pub entry: std::sync::Arc<crate::store::HistoryEntry>,
    /// Why the audio path may not be read (`None`: it may).
    pub refused: Option<String>,
}

impl AnalyzeJob {
    /// The job for `e`, its audio path checked against `store`'s claims.
    pub fn of(store: &GenerationHistory, e: &std::sync::Arc<crate::store::HistoryEntry>) -> Self {
        AnalyzeJob {
            entry: e.clone(),
            refused: store.claims().check(&e.entry_id, &e.audio_file()).err(),
        }
    }

    pub fn id(&self) -> &str {
        &self.entry.entry_id
    }

    /// The checked audio path (parsed again: the check passed it).
    pub fn audio(&self) -> Result<crate::store::paths::RelPath, String> {
        match &self.refused {
            Some(why) => Err(why.clone()),
            None => crate::store::paths::RelPath::parse(&self.entry.audio_file()),
        }
    }
}

/// The whole history as the store worker loaded it, with the analysis jobs
/// of all its takes, newest first (made there: a million path checks would
/// hold up the keys for a third of a second).
#[derive(Debug)]
pub struct Loaded {
    pub history: GenerationHistory,
    pub analyze: Vec<AnalyzeJob>,
}

/// Takes measured (or why not), and how many are still waiting.
#[derive(Debug)]
pub struct AnalysisDone {
    pub measured: Vec<(String, Result<crate::analysis::Measures, String>)>,
    pub left: usize,
}

/// A spectrogram to compute: the take, and the cells it fills.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumJob {
    pub id: String,
    pub audio: Result<crate::store::paths::RelPath, String>,
    pub cols: usize,
    pub rows: usize,
}

/// A spectrogram, or why there is none.
#[derive(Debug)]
pub struct SpectrumDone {
    pub id: String,
    pub cols: usize,
    pub rows: usize,
    pub spectrogram: Result<Arc<crate::analysis::spectrum::Spectrogram>, String>,
}

/// How an export goes: files done so far, then its report.
#[derive(Debug)]
pub enum ExportEvent {
    Progress { done: usize, total: usize },
    Done(Result<crate::export::Report, String>),
}

/// An export of the browser's takes, on a thread of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    pub ids: Vec<String>,
    pub dest: PathBuf,
    pub overwrite: bool,
    pub template: crate::export::name::Template,
}

/// What the store worker reports.
#[derive(Debug)]
pub enum StoreEvent {
    /// The whole history, loaded (at start).
    Loaded(Result<Box<Loaded>, StoreError>),
    /// Another program changed the file: what changed, or why it cannot be read.
    Reloaded(Result<Delta, StoreError>),
    Deleted {
        result: Result<DeleteReport, StoreError>,
        /// How the file changed (genhist's delete, and anything another
        /// program wrote meanwhile).
        delta: Option<Delta>,
        how: DeleteHow,
    },
    Undone {
        /// A redo's answer (else an undo's).
        redo: bool,
        result: Result<crate::store::journal::Outcome, StoreError>,
        delta: Option<Delta>,
    },
    RepairPlanned(Result<RepairPlan, StoreError>),
    Repaired {
        result: Result<RepairReport, StoreError>,
        delta: Option<Delta>,
    },
    /// Bytes of the takes' files, and what the trash holds.
    Sizes(Sizes),
    /// Things housekeeping did (an interrupted delete finished, ...).
    Notes(Vec<String>),
    /// The command history could not be saved.
    HistoryError(String),
    /// The command history was saved again after an error.
    HistorySaved,
    /// The worker's job panicked (caught there): what it was doing.
    Failed(String),
    /// Every take's annotations, read at start and whenever the file
    /// changed (genhist's own edits, a delete or undo, another genhist);
    /// or why they cannot be read.
    Annotations(Result<crate::store::annotations::Annotations, StoreError>),
    /// An `Annotate` job is done: every take's annotations after it, or
    /// why it could not be saved (the app goes back to what the file holds).
    Annotated(Result<crate::store::annotations::Annotations, String>),
    /// Every job sent before [`StoreJob::Flush`]`(n)` is done (on disk).
    Flushed(u64),
}

/// Bytes of the takes' files and of the trash (the store worker counts them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sizes {
    pub files: u64,
    pub trash: u64,
    pub trash_batches: usize,
    pub trash_takes: usize,
}

/// How takes left the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteHow {
    /// Into the trash (`u` undoes).
    ToTrash,
    /// For good.
    Permanent,
    /// Rejected takes into the trash.
    Purge,
}

/// Why a take has no waveform.
#[derive(Debug, Clone, PartialEq)]
pub enum PeakFailure {
    /// Its WAV is not there.
    Missing,
    /// genhist will not touch its path (see `store::paths`): why.
    Refused(String),
    /// An encoding genhist cannot read.
    Unsupported(String),
    /// Any other failure reading it.
    Unreadable(String),
}

impl std::fmt::Display for PeakFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeakFailure::Missing => f.write_str("the WAV file is missing"),
            PeakFailure::Refused(why) => write!(f, "invalid path: {why}"),
            PeakFailure::Unsupported(why) => write!(f, "unsupported: {why}"),
            PeakFailure::Unreadable(why) => write!(f, "cannot read: {why}"),
        }
    }
}

/// A waveform, or why there is none.
type PeakResult = Result<Arc<Peaks>, PeakFailure>;

/// What the peaks worker reports about one take.
#[derive(Debug)]
pub struct PeaksDone {
    pub id: String,
    pub peaks: PeakResult,
    /// The take's audio and thumbnail files, when asked for (the panel's).
    pub files: Option<(FileState, FileState)>,
}

/// What a view job computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// The list: search, filter and sort over the store's entries.
    List,
    /// The `/` search's matches among the shown rows.
    Search,
}

/// A sorted and filtered list (or a search's matches), computed off the UI
/// thread; or why it could not be (the job panicked).
#[derive(Debug)]
pub struct ViewDone {
    pub kind: ViewKind,
    pub seq: u64,
    pub rows: Result<super::view::Rows, String>,
}

/// A take for the peaks worker: its id and its audio path (already checked
/// against the rules that need no file system), and, for the selected take,
/// its thumbnail path too (the panel shows both files).
#[derive(Debug, Clone, PartialEq)]
pub struct PeakJob {
    pub id: String,
    pub audio: Result<crate::store::paths::RelPath, String>,
    pub thumbnail: Option<Result<crate::store::paths::RelPath, String>>,
}

/// Work for the store worker.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreJob {
    Delete {
        ids: Vec<String>,
        permanent: bool,
    },
    /// Move those of these takes that are still rejected to the trash.
    Purge(Vec<String>),
    /// Answer [`StoreEvent::Flushed`] once every job before this one is done.
    Flush(u64),
    /// Remember the browser's volume, sort and filter for this directory.
    SaveState(super::app::Saved),
    /// Take back the journal's newest action.
    Undo,
    /// Do again the action the last undo took back.
    Redo,
    PlanRepair,
    Repair(RepairPlan),
    /// Append a line to the command history file.
    SaveCommand(String),
    /// Change takes' annotations (the answer is a fresh
    /// [`StoreEvent::Annotations`], or the error).
    Annotate {
        ids: Vec<String>,
        edit: crate::store::annotations::Edit,
    },
}

/// A view to compute: the entries (in the store's order) and what to show.
#[derive(Debug, Clone)]
pub struct ViewJob {
    pub kind: ViewKind,
    /// Numbered per kind; only the newest result of each kind is used.
    pub seq: u64,
    pub entries: super::view::Rows,
    pub spec: super::view::ViewSpec,
    pub notes: Arc<crate::store::annotations::Annotations>,
    pub measures: Arc<crate::analysis::Measured>,
}

/// What `App::update` asks the runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Store(StoreJob),
    Peaks(Vec<PeakJob>),
    View(ViewJob),
    /// Files and directories that complete the path `word` at the end of
    /// the `:` bar's `line` (`head` is the line before it), listed on a
    /// thread of their own (answered by `Event::PathsFound`).
    CompletePath {
        line: String,
        head: String,
        word: String,
    },
    /// Export takes (answered by `Event::Export`).
    Export(ExportJob),
    /// List the output devices on a thread of their own (answered by
    /// `Event::Devices`).
    ListDevices,
    /// Measure takes, in this order, before those asked for earlier
    /// (answered by `Event::Analysis`).
    Analyze(Vec<AnalyzeJob>),
    /// Spectrograms (the newest request replaces what is queued).
    Spectrum(Vec<SpectrumJob>),
    /// Rows no longer shown: freeing 100,000 entries' counts touches as
    /// many cache lines, so the view worker drops them.
    Discard(Discard),
    Player(PlayerCmd),
    Quit,
}

/// Rows for the view worker to drop (equal when they are the same list).
#[derive(Debug, Clone)]
pub struct Discard(pub super::view::Rows);

impl PartialEq for Discard {
    fn eq(&self, other: &Discard) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for ViewJob {
    fn eq(&self, other: &ViewJob) -> bool {
        self.kind == other.kind && self.seq == other.seq && self.spec == other.spec
    }
}

impl Effect {
    /// True for work that changes files (what quitting waits for).
    pub fn writes(&self) -> bool {
        match self {
            Effect::Store(job) => !matches!(job, StoreJob::Flush(_) | StoreJob::PlanRepair),
            _ => false,
        }
    }
}
