//! genhist: browse, play and prune the history directories of generative audio tools.

// Every `unsafe` is in `sys`, each with its SAFETY note.
#![deny(unsafe_code)]
#![warn(unreachable_pub)]

pub mod analysis;
pub mod audio;
pub mod cli;
pub mod command_history;
pub mod config;
pub mod demo;
pub(crate) mod diff;
pub mod export;
pub(crate) mod fault;
pub mod fsutil;
pub(crate) mod par;
pub mod peaks;
pub mod playback;
pub mod query;
pub mod similar;
pub mod store;
pub(crate) mod sys;
pub mod text;
pub mod thumbnail;
pub mod ui;
pub mod wav;
