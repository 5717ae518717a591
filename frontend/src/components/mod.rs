//! Pieces of UI used by more than one page, or by the shell around every page.

pub mod start_run;
pub mod token_prompt;
