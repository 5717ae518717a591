-- People and access (SPEC §7, issue 16). Secrets are stored hashed: passwords as argon2id PHC
-- strings, session cookies and API keys as hex sha256. Times are ms by the engine's clock.
create table users (
    id            text    primary key,
    name          text    not null unique,
    role          text    not null,
    password      text,
    created_at    bigint  not null,
    updated_at    bigint  not null,
    last_login_at bigint
);
create table sessions (
    id_hash       text    primary key,
    user_id       text    not null,
    via           text    not null,
    created_at    bigint  not null,
    last_seen_at  bigint  not null,
    expires_at    bigint  not null
);
create index sessions_by_user on sessions (user_id);
create index sessions_by_expiry on sessions (expires_at);
create table api_keys (
    id            text    primary key,
    name          text    not null,
    role          text    not null,
    key_hash      text    not null unique,
    prefix        text    not null,
    created_by    text    not null,
    created_at    bigint  not null,
    last_used_at  bigint,
    revoked_at    bigint
);
-- Failed logins per `user:<name>` and `ip:<addr>`, counted within a window (the throttle).
create table login_failures (
    key           text    primary key,
    failures      bigint  not null,
    first_at      bigint  not null,
    last_at       bigint  not null
);
create table audit (
    id            bigint generated always as identity primary key,
    at            bigint  not null,
    actor         text    not null,
    action        text    not null,
    target        text,
    outcome       text    not null default 'ok',
    ip            text,
    details       text
);
create index audit_by_at on audit (at desc, id desc);
create index audit_by_actor on audit (actor, at desc);
create index audit_by_action on audit (action, at desc);
