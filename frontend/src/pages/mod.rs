//! The app's pages, one module per route, and [`Page`], which names them for links so that
//! no `href` is spelled twice.

pub mod admin;
pub mod designer;
pub mod inbox;
pub mod login;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod schedules;
pub mod start;
pub mod workflows;

/// A page with a fixed path: what the top bar and in-page links point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The start page: what needs attention, recent workflows, the template gallery.
    Home,
    /// Stored workflow definitions, and the designer below them.
    Workflows,
    /// Runs, newest first, and each run's console below them.
    Runs,
    /// Every cron schedule, with pause, resume, trigger now and backfill.
    Schedules,
    /// Signing in.
    Login,
    /// Users (admin).
    AdminUsers,
    /// API keys (admin).
    AdminKeys,
    /// The audit log (admin).
    AdminAudit,
    /// The approvals waiting for the caller.
    Inbox,
}

impl Page {
    /// The route's path; `App` registers the same paths with `path!`.
    pub fn path(self) -> &'static str {
        match self {
            Page::Home => "/",
            Page::Workflows => "/workflows",
            Page::Runs => "/runs",
            Page::Schedules => "/schedules",
            Page::Login => "/login",
            Page::AdminUsers => "/admin/users",
            Page::AdminKeys => "/admin/keys",
            Page::AdminAudit => "/admin/audit",
            Page::Inbox => "/inbox",
        }
    }

    /// The name shown in navigation and headings.
    pub fn title(self) -> &'static str {
        match self {
            Page::Home => "Start",
            Page::Workflows => "Workflows",
            Page::Runs => "Runs",
            Page::Schedules => "Schedules",
            Page::Login => "Sign in",
            Page::AdminUsers => "Users",
            Page::AdminKeys => "API keys",
            Page::AdminAudit => "Audit",
            Page::Inbox => "Inbox",
        }
    }

    /// A stable, lower-case name for `data-testid`s.
    pub fn slug(self) -> &'static str {
        match self {
            Page::Home => "home",
            Page::Workflows => "workflows",
            Page::Runs => "runs",
            Page::Schedules => "schedules",
            Page::Login => "login",
            Page::AdminUsers => "admin-users",
            Page::AdminKeys => "admin-keys",
            Page::AdminAudit => "admin-audit",
            Page::Inbox => "inbox",
        }
    }
}
