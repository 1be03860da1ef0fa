//! genhist: browse, play and prune the history directories of generative audio tools.

pub mod audio;
pub mod cli;
pub mod command_history;
pub mod config;
pub mod demo;
pub mod diff;
pub mod export;
pub mod fault;
pub mod fsutil;
pub mod peaks;
pub mod playback;
pub mod query;
pub mod similar;
pub mod store;
pub mod sys;
pub mod text;
pub mod thumbnail;
pub mod ui;
pub mod wav;
