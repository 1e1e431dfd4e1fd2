-- Anonymity that holds against whoever can read this file (README "Listening to developers",
-- "What stays identifiable").
--
-- 1. The key behind the pseudonyms leaves the database: it is read from SLIPWAY_SURVEY_KEY or a key
--    file (src/store/survey-key.ts). The old key is dropped, not moved: a file cannot be written
--    from SQL, and keeping it would keep every past pseudonym computable.
-- 2. Every pseudonym made with the old key is replaced by a random value (one per person and
--    pulse, so counts stay right). Closed pulses lose nothing. A pulse still open during the
--    upgrade keeps its answers, but a person who changes an answer after the upgrade can no
--    longer be matched to it, so their new click counts as one more answer.
-- 3. Each pulse gets its own key material (`key_salt`), mixed with the key outside the database;
--    it is erased when the pulse closes, and the pseudonyms are replaced by random values then.
-- 4. A feedback item gets a random `token` for its buttons (the sequential id would give away the
--    order items were written in), and held pulse ratings are matched by pseudonym (`respondent`)
--    instead of by author. Authors are stored sealed with the key from then on; those stored in
--    plain text before are sealed at the next start (src/workflows/feedback.ts, resumeFeedback).

DROP TABLE survey_secret;

ALTER TABLE pulse_surveys ADD COLUMN key_salt BLOB;
UPDATE pulse_surveys SET key_salt = randomblob(32) WHERE closed_at IS NULL;

CREATE TABLE pulse_respondent_map AS
  SELECT survey_id, respondent AS old, substr(lower(hex(randomblob(16))), 1, 22) AS new
  FROM (SELECT DISTINCT survey_id, respondent FROM pulse_answers);
UPDATE pulse_answers SET respondent = (
  SELECT m.new FROM pulse_respondent_map m WHERE m.survey_id = pulse_answers.survey_id AND m.old = pulse_answers.respondent
);
DROP TABLE pulse_respondent_map;

ALTER TABLE feedback ADD COLUMN token TEXT;
UPDATE feedback SET token = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX feedback_token ON feedback (token);

ALTER TABLE feedback ADD COLUMN respondent TEXT;
-- Authors are cleared a while after posting (survey.feedback.relayDays).
CREATE INDEX feedback_posted ON feedback (posted_at) WHERE author IS NOT NULL;

-- Weekly figures after provisioning count only answers given before the week ended (and an
-- answer cannot change once its week is over), so a report never moves: the index that serves
-- them now covers answered_at too.
DROP INDEX provisioning_answers_asked;
CREATE INDEX provisioning_answers_asked ON provisioning_answers (asked_at, score, answered_at, ready_ms, approval_wait_ms, self_serve, ts);
