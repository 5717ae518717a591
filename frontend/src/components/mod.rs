//! Pieces of UI used by more than one page, or by the shell around every page.

pub mod code_text;
pub mod expression;
pub mod load_error;
pub mod modal;
pub mod start_run;
pub mod token_prompt;
