//! `weft user add|list|remove|set-role` (SPEC §7): users managed on the database directly, so
//! the first admin can be made before any server runs. Passwords come on standard input,
//! never on the command line (where `ps` and shell history would show them). Each change is
//! audited with the actor `cli`.

use std::io::BufRead;
use std::process::ExitCode;

use serde_json::json;
use shared::access::Role;

use super::audit;
use crate::config::UserCommand;
use crate::store::Store;

/// Runs one `weft user` command on `database`.
pub fn run(database: &str, command: UserCommand) -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(act(database, command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft user: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn role(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).ok_or_else(|| {
        anyhow::anyhow!("unknown role `{text}`: use viewer, approver, operator, editor or admin")
    })
}

/// The first line of standard input, without its line end.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn act(database: &str, command: UserCommand) -> anyhow::Result<()> {
    let store = Store::open(database).await?;
    // The server's clock is not running here; the system's is the one it would read.
    let now = crate::clock::Clock::System.now();
    let (action, target, details) = match command {
        UserCommand::Add { name, role: r } => {
            let r = role(&r)?;
            let password = read_password()?;
            super::users::add(&store, &name, r, password, now).await?;
            println!("added {name} ({r})");
            ("user.added", name, json!({ "role": r }))
        }
        UserCommand::List => {
            for u in store.users().await? {
                println!("{}\t{}", u.name, u.role);
            }
            return Ok(());
        }
        UserCommand::Remove { name } => {
            if !store.remove_user(&name).await? {
                anyhow::bail!("there is no user called `{name}`");
            }
            println!("removed {name}");
            ("user.removed", name, json!({}))
        }
        UserCommand::SetRole { name, role: r } => {
            let r = role(&r)?;
            if !store
                .update_user(&name, Some(r.as_str()), None, now)
                .await?
            {
                anyhow::bail!("there is no user called `{name}`");
            }
            println!("{name} is now {r}");
            ("user.changed", name, json!({ "role": r }))
        }
    };
    audit::record(
        &store,
        audit::Entry {
            at: now,
            actor: "cli",
            action,
            target: Some(format!("user:{target}")),
            ok: true,
            ip: None,
            details,
        },
    )
    .await;
    Ok(())
}
