//! genhist: browse, play and prune the history directories of generative audio tools.

pub mod audio;
pub mod peaks;
pub mod store;
pub mod thumbnail;
pub mod demo;
pub mod text;
pub mod cli;
pub mod player;
pub mod command_history;
pub mod query;
pub mod playback;
