-- The SQLite schema at version 1, as migration 1 made it (recorded; never edit).
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	description VARCHAR NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE dossier (
	seq INTEGER NOT NULL, 
	id VARCHAR NOT NULL, 
	number VARCHAR NOT NULL, 
	scheme VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	applicant_name VARCHAR NOT NULL, 
	applicant_name_sort VARCHAR NOT NULL, 
	email VARCHAR NOT NULL, 
	phone VARCHAR NOT NULL, 
	city VARCHAR NOT NULL, 
	postcode VARCHAR NOT NULL, 
	submitted_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	state_changed_at DATETIME, 
	requested_cents BIGINT NOT NULL, 
	assigned_to VARCHAR DEFAULT '' NOT NULL, 
	version VARCHAR NOT NULL, 
	search_text TEXT NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_dossier_state ON dossier (state, id, scheme, assigned_to, submitted_at);
CREATE INDEX ix_dossier_name ON dossier (applicant_name_sort, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_number ON dossier (number, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_scheme ON dossier (scheme, state, assigned_to, submitted_at, id);
CREATE INDEX ix_dossier_updated ON dossier (updated_at, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_submitted ON dossier (submitted_at, id, scheme, state, assigned_to);
CREATE INDEX ix_dossier_amount ON dossier (requested_cents, id, scheme, state, assigned_to, submitted_at);
CREATE TABLE sync_cursor (
	scope VARCHAR NOT NULL, 
	cursor VARCHAR, 
	updated_since DATETIME, 
	last_sync_at DATETIME, 
	PRIMARY KEY (scope)
);
CREATE TABLE scheme (
	code VARCHAR NOT NULL, 
	detail TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (code)
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
CREATE TABLE dossier_detail (
	dossier_id VARCHAR NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (dossier_id), 
	FOREIGN KEY(dossier_id) REFERENCES dossier (id) ON DELETE CASCADE
);
CREATE TABLE attachment (
	dossier_id VARCHAR NOT NULL, 
	id VARCHAR NOT NULL, 
	filename VARCHAR NOT NULL, 
	content_type VARCHAR NOT NULL, 
	size BIGINT NOT NULL, 
	sha256 VARCHAR NOT NULL, 
	document_type VARCHAR DEFAULT '' NOT NULL, 
	local_path VARCHAR, 
	downloaded_at DATETIME, 
	PRIMARY KEY (dossier_id, id), 
	FOREIGN KEY(dossier_id) REFERENCES dossier (id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE dossier_fts USING fts5(search_text, content='dossier', content_rowid='seq', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER dossier_fts_insert AFTER INSERT ON dossier BEGIN INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END;
CREATE TRIGGER dossier_fts_delete AFTER DELETE ON dossier BEGIN INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); END;
CREATE TRIGGER dossier_fts_update AFTER UPDATE OF search_text ON dossier WHEN old.search_text IS NOT new.search_text BEGIN INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END;
