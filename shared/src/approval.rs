//! Who may decide an approval (SPEC §7), in one place: the engine refuses a decision with
//! it, the inbox lists what a caller may decide with it, and the run console hides the
//! buttons with it, so the three never disagree.
//!
//! The rule: anyone its `approvers` admit (by role, a role above counts, or by name; no
//! `approvers`: the `approver` role and above), plus those of each escalation step already
//! reached; and not whoever started the run, unless `allow_self_approval`.

use crate::access::Role;
use crate::model::{ApprovalNode, Approvers};

/// The approvers when a node names none: anyone with the `approver` role or above.
pub fn default_approvers() -> Approvers {
    Approvers {
        roles: vec![Role::Approver],
        users: Vec::new(),
    }
}

/// Everyone who may decide `a` once it has reached `escalated` escalation steps: its
/// approvers and those of each step reached, roles and users each listed once.
pub fn deciders(a: &ApprovalNode, escalated: u32) -> Approvers {
    let mut all = a.approvers.clone().unwrap_or_else(default_approvers);
    for step in a.escalate.iter().take(escalated as usize) {
        for r in &step.approvers.roles {
            if !all.roles.contains(r) {
                all.roles.push(*r);
            }
        }
        for u in &step.approvers.users {
            if !all.users.contains(u) {
                all.users.push(u.clone());
            }
        }
    }
    all
}

/// Why `user` with `role` may not decide `a` after `escalated` steps, or none when they may.
/// A viewer never may: deciding needs the `approver` role whatever the node names.
pub fn refusal(a: &ApprovalNode, escalated: u32, user: &str, role: Role) -> Option<String> {
    if role < Role::Approver {
        return Some(format!(
            "deciding needs at least the role `approver`, and you are `{role}`"
        ));
    }
    let who = deciders(a, escalated);
    if who.admit(user, role) {
        return None;
    }
    let mut named: Vec<String> = who.roles.iter().map(|r| format!("role `{r}`")).collect();
    named.extend(who.users.iter().map(|u| format!("user `{u}`")));
    let later = a.escalate.len().saturating_sub(escalated as usize);
    let more = if later > 0 {
        format!(" ({later} escalation step(s) may add more later)")
    } else {
        String::new()
    };
    Some(format!(
        "only {} may decide it now{more}",
        if named.is_empty() {
            "nobody".to_owned()
        } else {
            named.join(", ")
        }
    ))
}

/// Whether `user` deciding is self-approval `a` forbids: they started the run (`started_by`)
/// and `a` does not `allow_self_approval`. `person`: the name stands for one person or key,
/// not a credential many share.
pub fn self_approval(a: &ApprovalNode, started_by: Option<&str>, user: &str, person: bool) -> bool {
    person && !a.allow_self_approval && started_by == Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DurationText, Escalation};

    fn node(approvers: Option<Approvers>, escalate: Vec<Escalation>) -> ApprovalNode {
        ApprovalNode {
            prompt: "ok?".into(),
            approvers,
            escalate,
            ..ApprovalNode::default()
        }
    }

    fn users(names: &[&str]) -> Approvers {
        Approvers {
            roles: Vec::new(),
            users: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn by_default_any_approver_or_above_decides_and_a_viewer_never() {
        let a = node(None, Vec::new());
        assert_eq!(refusal(&a, 0, "ann", Role::Approver), None);
        assert_eq!(refusal(&a, 0, "root", Role::Admin), None);
        let why = refusal(&a, 0, "val", Role::Viewer).expect("a viewer is refused");
        assert!(why.contains("`approver`"), "{why}");
    }

    #[test]
    fn named_users_and_roles_admit_only_them_until_an_escalation_adds_more() {
        let step = Escalation {
            after: DurationText("1h".into()),
            approvers: Approvers {
                roles: vec![Role::Admin],
                users: Vec::new(),
            },
            notify: None,
        };
        let a = node(Some(users(&["fin"])), vec![step]);
        assert_eq!(refusal(&a, 0, "fin", Role::Approver), None);
        let why = refusal(&a, 0, "root", Role::Admin).expect("not named yet");
        assert!(
            why.contains("user `fin`") && why.contains("1 escalation"),
            "{why}"
        );
        assert_eq!(refusal(&a, 1, "root", Role::Admin), None);
        assert!(refusal(&a, 1, "ops", Role::Operator).is_some());
        assert_eq!(deciders(&a, 1).roles, vec![Role::Admin]);
    }

    #[test]
    fn a_role_admits_the_roles_above_it() {
        let a = node(
            Some(Approvers {
                roles: vec![Role::Operator],
                users: Vec::new(),
            }),
            Vec::new(),
        );
        assert!(refusal(&a, 0, "ann", Role::Approver).is_some());
        assert_eq!(refusal(&a, 0, "ed", Role::Editor), None);
    }
}
