-- The SQLite journal at version 1, as migration 1 made it (recorded; never edit).
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	description VARCHAR NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	dossier_id VARCHAR NOT NULL, 
	idempotency_key VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	payload JSON NOT NULL, 
	dossier_version VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	not_before DATETIME NOT NULL, 
	status VARCHAR DEFAULT 'pending' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	last_error TEXT, 
	sent_at DATETIME, 
	response JSON, 
	PRIMARY KEY (id), 
	UNIQUE (idempotency_key)
);
CREATE INDEX ix_outbox_dossier_id ON outbox (dossier_id);
CREATE INDEX ix_outbox_due ON outbox (status, not_before);
CREATE TABLE audit_event (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	dossier_id VARCHAR, 
	payload JSON NOT NULL, 
	prev_hash VARCHAR, 
	hash VARCHAR, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_event_at ON audit_event (at);
CREATE INDEX ix_audit_event_dossier_id ON audit_event (dossier_id);
CREATE TABLE call_log (
	id VARCHAR NOT NULL, 
	direction VARCHAR NOT NULL, 
	caller_number VARCHAR DEFAULT '' NOT NULL, 
	caller_name VARCHAR DEFAULT '' NOT NULL, 
	dossier_ids JSON NOT NULL, 
	reason VARCHAR DEFAULT '' NOT NULL, 
	summary TEXT DEFAULT '' NOT NULL, 
	outcome VARCHAR DEFAULT '' NOT NULL, 
	callback_due_at DATETIME, 
	callback_done_at DATETIME, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	agent VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_call_log_started_at ON call_log (started_at);
CREATE INDEX ix_call_log_callback_due_at ON call_log (callback_due_at);
CREATE INDEX ix_call_log_agent ON call_log (agent);
CREATE TABLE note (
	id INTEGER NOT NULL, 
	dossier_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	author VARCHAR NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_note_dossier_id ON note (dossier_id);
