-- Skript's tables. Every table of a run is keyed by the run's id first, so
-- what a run touches sits together and its end deletes by prefix.

CREATE TABLE skript_schema (
	version integer NOT NULL
);

CREATE TABLE skript_blueprints (
	hash    text PRIMARY KEY,
	data    bytea NOT NULL,
	touched timestamptz NOT NULL
);

-- A run's header. created and ended are Unix nanoseconds, so the run
-- index's cursor is exact; events counts the journal's events (the next
-- one is events+1) and cut says it has reached its limit.
CREATE TABLE skript_runs (
	id       text PRIMARY KEY,
	workflow text NOT NULL,
	hash     text NOT NULL,
	status   text NOT NULL,
	created  bigint NOT NULL,
	ended    bigint,
	idem_key text,
	header   bytea NOT NULL,
	output   bytea,
	error    bytea,
	events   bigint NOT NULL DEFAULT 0,
	cut      boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX skript_runs_idem_key ON skript_runs (idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX skript_runs_created ON skript_runs (created, id);
CREATE INDEX skript_runs_workflow ON skript_runs (workflow, created, id);
CREATE INDEX skript_runs_status ON skript_runs (status, created, id);
CREATE INDEX skript_runs_ended ON skript_runs (ended) WHERE ended IS NOT NULL;
CREATE INDEX skript_runs_hash ON skript_runs (hash);

-- Records: data is the record's JSON, values in package value's codec.
-- The partial index finds a run's running records at its end without
-- reading the others.
CREATE TABLE skript_records (
	run    text NOT NULL,
	frame  text NOT NULL,
	key    text NOT NULL,
	status text NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (run, frame, key)
);
CREATE INDEX skript_records_running ON skript_records (run) WHERE status = 'running';

CREATE TABLE skript_tokens (
	run text NOT NULL,
	id  text NOT NULL,
	seq bigint NOT NULL,
	PRIMARY KEY (run, id)
);

-- Groups of a Fork or Map: remaining children to arrive, next slot to
-- start; def is the store.Group's JSON. Arrived values wait in slots.
CREATE TABLE skript_groups (
	run       text NOT NULL,
	id        text NOT NULL,
	total     integer NOT NULL,
	remaining integer NOT NULL,
	next      integer NOT NULL,
	started   timestamptz NOT NULL,
	def       bytea NOT NULL,
	PRIMARY KEY (run, id)
);

CREATE TABLE skript_slots (
	run   text NOT NULL,
	grp   text NOT NULL,
	slot  integer NOT NULL,
	value bytea NOT NULL,
	PRIMARY KEY (run, grp, slot)
);

-- The queue. visible is when the entry may be leased next: when it is due,
-- or, once leased, when its lease runs out (so an expired lease is ready
-- again with no sweep). deliveries counts the leases.
CREATE TABLE skript_tasks (
	id         bigserial PRIMARY KEY,
	run        text NOT NULL,
	visible    timestamptz NOT NULL,
	enqueued   timestamptz NOT NULL,
	deliveries integer NOT NULL DEFAULT 0,
	worker     text,
	data       bytea NOT NULL
);
CREATE INDEX skript_tasks_visible ON skript_tasks (visible, id);
CREATE INDEX skript_tasks_run ON skript_tasks (run);

-- The journal: one row per event, data the event's JSON without its
-- number and time.
CREATE TABLE skript_events (
	run  text NOT NULL,
	seq  bigint NOT NULL,
	at   bigint NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (run, seq)
);
