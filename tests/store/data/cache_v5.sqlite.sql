-- The SQLite cache at CACHE_VERSION 5 (recorded; a change to the cache tables bumps CACHE_VERSION and
-- records a new file). 5: as 4; the full-text index keeps no token counts (columnsize=0).
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
	clock_origin_s BIGINT DEFAULT '0' NOT NULL, 
	clock_paused_s BIGINT, 
	decision VARCHAR, 
	decided_at DATETIME, 
	decided_by VARCHAR DEFAULT '' NOT NULL, 
	decision_delay_s BIGINT, 
	granted_cents BIGINT, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE INDEX ix_dossier_submitted ON dossier (submitted_at, id, scheme, state, assigned_to);
CREATE INDEX ix_dossier_updated ON dossier (updated_at, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_state ON dossier (state, id, scheme, assigned_to, submitted_at);
CREATE INDEX ix_dossier_decided ON dossier (decision, decided_at, scheme, decision_delay_s, granted_cents, decided_by);
CREATE INDEX ix_dossier_scheme ON dossier (scheme, state, assigned_to, submitted_at, id);
CREATE INDEX ix_dossier_clock ON dossier (state, scheme, clock_origin_s, clock_paused_s);
CREATE INDEX ix_dossier_name ON dossier (applicant_name_sort, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_number ON dossier (number, id, scheme, state, assigned_to, submitted_at);
CREATE INDEX ix_dossier_amount ON dossier (requested_cents, id, scheme, state, assigned_to, submitted_at);
CREATE TABLE dossier_detail (
	dossier_id VARCHAR NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (dossier_id), 
	FOREIGN KEY(dossier_id) REFERENCES dossier (id) ON DELETE CASCADE
);
CREATE TABLE attachment (
	dossier_id VARCHAR NOT NULL, 
	id VARCHAR NOT NULL, 
	local_path VARCHAR NOT NULL, 
	downloaded_at DATETIME NOT NULL, 
	PRIMARY KEY (dossier_id, id), 
	FOREIGN KEY(dossier_id) REFERENCES dossier (id) ON DELETE CASCADE
);
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
CREATE TABLE cache_version (
	version INTEGER NOT NULL, 
	PRIMARY KEY (version)
);
CREATE VIRTUAL TABLE dossier_fts USING fts5(search_text, content='dossier', content_rowid='seq', tokenize='unicode61 remove_diacritics 2', prefix='2 3', columnsize=0);
CREATE TRIGGER dossier_fts_insert AFTER INSERT ON dossier BEGIN INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END;
CREATE TRIGGER dossier_fts_delete AFTER DELETE ON dossier BEGIN INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); END;
CREATE TRIGGER dossier_fts_update AFTER UPDATE OF search_text ON dossier WHEN old.search_text IS NOT new.search_text BEGIN INSERT INTO dossier_fts(dossier_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text); INSERT INTO dossier_fts(rowid, search_text) VALUES (new.seq, new.search_text); END;
