//! Who is signed in, and what their role lets them do (SPEC §7).
//!
//! The shell reads `GET /api/auth/me` once into an [`Access`] context; buttons ask it through
//! [`denied`] and are disabled with the reason as their title, so a person sees why rather than
//! clicking into a 403. The server still decides: whatever slips through (a role changed
//! meanwhile) comes back as a 403 that the button's own error line shows.
//!
//! The rules here are pure functions of the role, tested without a browser.

use leptos::prelude::*;
use shared::access::{Me, Role};

use crate::pages::runs::query::encode;

/// What a button does, by the role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Approve or reject a waiting approval.
    Decide,
    /// Start, signal, cancel, pause, resume, redrive runs; bulk actions; schedules' triggers.
    Operate,
    /// Save and archive definitions.
    Edit,
    /// Users, API keys and the audit log.
    Administer,
}

impl Action {
    /// The least role that may do it.
    pub fn needs(self) -> Role {
        match self {
            Action::Decide => Role::Approver,
            Action::Operate => Role::Operator,
            Action::Edit => Role::Editor,
            Action::Administer => Role::Admin,
        }
    }

    /// Why a lesser role may not: the title of a disabled button.
    fn reason(self) -> &'static str {
        match self {
            Action::Decide => "Needs the approver role: your role can only view",
            Action::Operate => "Needs the operator role to start, signal or change runs",
            Action::Edit => "Needs the editor role to save or archive definitions",
            Action::Administer => "Needs the admin role",
        }
    }
}

/// Why `role` may not do `action`; `None` when it may. An unknown role (the answer of
/// `/api/auth/me` not in yet) refuses nothing: the server decides.
pub fn refusal(role: Option<Role>, action: Action) -> Option<&'static str> {
    match role {
        Some(role) if role < action.needs() => Some(action.reason()),
        _ => None,
    }
}

/// A closed server with no credential: the person has to sign in.
pub fn must_sign_in(me: &Me) -> bool {
    me.mode == "closed" && me.user.is_none()
}

/// An open server: no user, key or token exists, and anyone here is admin.
pub fn is_open(me: &Me) -> bool {
    me.mode == "open"
}

/// The login page's address, coming back to `here` after signing in.
pub fn login_path(here: &str) -> String {
    match safe_next(Some(here)) {
        next if next == "/" => "/login".to_owned(),
        next => format!("/login?next={}", encode(&next)),
    }
}

/// Where to go after signing in: `next` when it is a path of this app (not another site's
/// `//host/...`, not the login page itself), else home. Browsers drop tabs and newlines from
/// a URL and read `\\` as `/`, so `/\t/evil.example` would be another site: a path holding
/// either is refused whole.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && path != "/login"
                && !path.starts_with("/login?") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The shell's knowledge of the caller: `None` until `/api/auth/me` answers (or when it fails,
/// where the server still decides every call).
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub me: RwSignal<Option<Me>>,
}

impl Access {
    /// The caller's role, when known.
    pub fn role(self) -> Signal<Option<Role>> {
        let me = self.me;
        Signal::derive(move || me.with(|m| m.as_ref().and_then(|m| m.role)))
    }
}

/// Fetches `/api/auth/me` and provides the [`Access`] context to everything below.
pub fn provide_access() -> Access {
    let access = Access {
        me: RwSignal::new(None),
    };
    provide_context(access);
    refresh(access);
    access
}

/// Asks the server again who the caller is (after signing in or out).
pub fn refresh(access: Access) {
    leptos::task::spawn_local(async move {
        if let Ok(me) = crate::api::get_json::<Me>("/api/auth/me").await {
            access.me.set(Some(me));
        }
    });
}

/// The [`Access`] context (an empty one outside the app's shell).
pub fn use_access() -> Access {
    use_context::<Access>().unwrap_or(Access {
        me: RwSignal::new(None),
    })
}

/// Why the caller may not do `action` now; `None` when they may.
pub fn denied(action: Action) -> Signal<Option<&'static str>> {
    let role = use_access().role();
    Signal::derive(move || refusal(role.get(), action))
}

/// A gated button's title: the refusal when there is one, else what `normal` says.
pub fn title_unless(
    refused: Signal<Option<&'static str>>,
    normal: impl Fn() -> &'static str,
) -> impl Fn() -> &'static str {
    move || refused.get().unwrap_or_else(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_does_what_the_spec_gives_it_and_everything_below() {
        let allowed = |role: Role| {
            [
                Action::Decide,
                Action::Operate,
                Action::Edit,
                Action::Administer,
            ]
            .into_iter()
            .filter(|a| refusal(Some(role), *a).is_none())
            .collect::<Vec<_>>()
        };
        assert_eq!(allowed(Role::Viewer), vec![]);
        assert_eq!(allowed(Role::Approver), vec![Action::Decide]);
        assert_eq!(
            allowed(Role::Operator),
            vec![Action::Decide, Action::Operate]
        );
        assert_eq!(
            allowed(Role::Editor),
            vec![Action::Decide, Action::Operate, Action::Edit]
        );
        assert_eq!(allowed(Role::Admin).len(), 4);
    }

    #[test]
    fn a_refusal_names_the_role_needed() {
        assert_eq!(
            refusal(Some(Role::Viewer), Action::Decide),
            Some("Needs the approver role: your role can only view")
        );
        for action in [Action::Operate, Action::Edit, Action::Administer] {
            let reason = refusal(Some(Role::Approver), action).unwrap();
            assert!(reason.contains(action.needs().as_str()), "{reason}");
        }
    }

    #[test]
    fn an_unknown_role_leaves_the_decision_to_the_server() {
        assert_eq!(refusal(None, Action::Administer), None);
    }

    fn me(mode: &str, user: Option<&str>) -> Me {
        Me {
            mode: mode.into(),
            sso: false,
            user: user.map(Into::into),
            role: user.map(|_| Role::Viewer),
            via: None,
        }
    }

    #[test]
    fn only_a_closed_server_without_a_credential_asks_for_a_sign_in() {
        assert!(must_sign_in(&me("closed", None)));
        assert!(!must_sign_in(&me("closed", Some("alice"))));
        assert!(!must_sign_in(&me("open", Some("local"))));
        assert!(is_open(&me("open", Some("local"))));
        assert!(!is_open(&me("closed", Some("alice"))));
    }

    #[test]
    fn the_login_page_remembers_where_the_person_was() {
        assert_eq!(login_path("/"), "/login");
        assert_eq!(
            login_path("/runs/r1?tab=events"),
            "/login?next=%2Fruns%2Fr1%3Ftab%3Devents"
        );
        assert_eq!(login_path("/login?next=/x"), "/login");
    }

    #[test]
    fn after_signing_in_only_a_path_of_this_app_is_followed() {
        assert_eq!(safe_next(Some("/runs/abc?x=1")), "/runs/abc?x=1");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/runs\\..\\\\evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/login")), "/");
        assert_eq!(safe_next(Some("/login?next=/runs")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
