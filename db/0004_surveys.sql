-- Surveys: the weekly pulse, the question after provisioning, and feedback that reaches the
-- platform channel (README "Listening to developers", docs/metrics.md "Surveys").
--
-- Anonymity: pulse answers are stored under a per-survey pseudonym (an HMAC of the survey and the
-- person, keyed by `survey_secret`), never a Slack user id. Only `feedback.author` names a person,
-- so that replies from the platform team can be relayed; it is never shown, logged or exported.

-- One row: the key of the pseudonyms, made at random on first use.
CREATE TABLE survey_secret (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  secret BLOB NOT NULL
);

-- A weekly pulse: one a week at most (its week is the local Monday it opened in).
CREATE TABLE pulse_surveys (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  week        TEXT NOT NULL UNIQUE,
  opened_at   TEXT NOT NULL,
  closes_at   TEXT NOT NULL,
  closed_at   TEXT,
  -- The questions and labels as configured when it opened: JSON.
  questions   TEXT NOT NULL,
  min_answers INTEGER NOT NULL,
  -- People who could answer: the non-bot members of its channels (distinct), counted at opening
  -- and again at closing.
  eligible    INTEGER,
  -- People who answered at least one question, recorded at closing.
  respondents INTEGER
);

CREATE INDEX pulse_surveys_open ON pulse_surveys (closed_at, closes_at);

-- Where a pulse was posted, or why not (the bot is not in the channel).
CREATE TABLE pulse_posts (
  survey_id  INTEGER NOT NULL REFERENCES pulse_surveys (id),
  channel    TEXT NOT NULL,
  ts         TEXT,
  members    INTEGER,
  skipped    TEXT,
  results_ts TEXT,
  PRIMARY KEY (survey_id, channel)
);

CREATE TABLE pulse_answers (
  survey_id   INTEGER NOT NULL REFERENCES pulse_surveys (id),
  question    TEXT NOT NULL,
  respondent  TEXT NOT NULL,
  score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
  answered_at TEXT NOT NULL,
  PRIMARY KEY (survey_id, question, respondent)
) WITHOUT ROWID;

-- A survey's distribution is one pass over this index.
CREATE INDEX pulse_answers_scores ON pulse_answers (survey_id, question, score);

-- The question asked when a namespace is ready, stored with its request and with how that
-- request went (from its events, when asked): time to ready, approval wait, self-serve. `ts` is
-- null until the message went out. `released_at`: when the answer joined a batch of low ratings
-- and comments posted to the platform channel (see feedback.status 'held').
CREATE TABLE provisioning_answers (
  -- requests.id; like events.request_id, not a foreign key, so the event log and the metrics can
  -- be rebuilt or loaded without the requests table.
  request_id       INTEGER PRIMARY KEY,
  asked_at         TEXT NOT NULL,
  ready_ms         INTEGER,
  approval_wait_ms INTEGER,
  self_serve       INTEGER CHECK (self_serve IN (0, 1)),
  channel          TEXT,
  ts               TEXT,
  reminded_at      TEXT,
  score            INTEGER CHECK (score BETWEEN 1 AND 5),
  answered_at      TEXT,
  released_at      TEXT
);

-- The digest's questions of a window, with their answers and timing, from the index alone.
CREATE INDEX provisioning_answers_asked ON provisioning_answers (asked_at, score, ready_ms, approval_wait_ms, self_serve, ts);
CREATE INDEX provisioning_answers_answered ON provisioning_answers (answered_at, score, request_id);

-- Comments, low ratings (1 or 2) and `/platform feedback`, each posted as its own message in the
-- platform channel. status: held (waits for enough answers, so it cannot be traced), pending (to
-- post), posting, posted, dropped (never posted: too few answers; its author is erased).
CREATE TABLE feedback (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  source     TEXT NOT NULL CHECK (source IN ('pulse', 'provisioning', 'command')),
  survey_id  INTEGER,
  question   TEXT,
  request_id INTEGER,
  score      INTEGER CHECK (score BETWEEN 1 AND 5),
  text       TEXT,
  author     TEXT,
  anonymous  INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
  status     TEXT NOT NULL CHECK (status IN ('held', 'pending', 'posting', 'posted', 'dropped')),
  created_at TEXT NOT NULL,
  channel    TEXT,
  ts         TEXT,
  posted_at  TEXT,
  done_at    TEXT,
  done_by    TEXT,
  done_text  TEXT
);

CREATE UNIQUE INDEX feedback_message ON feedback (channel, ts);
CREATE INDEX feedback_status ON feedback (status, source);
CREATE INDEX feedback_done ON feedback (done_at);
CREATE INDEX feedback_survey ON feedback (survey_id, question);

-- Thread replies already relayed: Slack delivers events at least once.
CREATE TABLE feedback_replies (
  channel     TEXT NOT NULL,
  ts          TEXT NOT NULL,
  feedback_id INTEGER NOT NULL REFERENCES feedback (id),
  relayed_at  TEXT NOT NULL,
  PRIMARY KEY (channel, ts)
);

-- People who said `/platform surveys off`.
CREATE TABLE survey_mutes (
  user     TEXT PRIMARY KEY,
  muted_at TEXT NOT NULL
);
